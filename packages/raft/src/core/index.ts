// Front door of the Raft core.
export { NONE } from './types.js';
export type {
  NodeId, EntryType, Entry, HardState, ConfState, SnapshotMetadata, Snapshot, ConfChangeType, ConfChange,
  MessageType, Message, ReadState, StateType, SoftState, Ready, Storage, Config, Logger,
} from './types.js';
export {
  CompactedError, UnavailableError, SnapshotTemporarilyUnavailableError, SnapOutOfDateError,
  ProposalDroppedError, ConfigError,
} from './errors.js';
export { MemoryStorage } from './memoryStorage.js';
export { RawNode } from './rawNode.js';
export type { Status, ProgressStatus, Peer } from './rawNode.js';
export type { ProgressStateType } from './progress.js';
export { encodeConfChange, decodeConfChange } from './confChange.js';
export { newMessage, entrySize } from './util.js';
