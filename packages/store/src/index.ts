// The front door of @tswarm/store: the replicated object store and its Raft contract.
export { Store, type StoreOptions, type UpdateResult, type ViewAndWatch } from './store.js';
export type { Proposer, ReplicatedStateMachine, ApplyOutcome } from './proposer.js';
export { LocalProposer, type LoggedEntry } from './local-proposer.js';
export {
  Table,
  defineTable,
  jsonCodec,
  type Codec,
  type IndexDef,
  type IndexKey,
  type StoredObject,
  type Versioned,
} from './table.js';
export type { AnyTable, ReadTx } from './state.js';
export type { SnapshotCapture } from './snapshot.js';
export type { WriteTx } from './tx.js';
export {
  BatchError,
  MAX_ACTIONS_PER_TRANSACTION,
  MAX_TRANSACTION_BYTES,
  type Batch,
  type BatchResult,
} from './batch.js';
export {
  WATCH_HISTORY_EVENTS,
  WATCH_QUEUE_LIMIT,
  Watcher,
  isEventOf,
  type StoreEvent,
  type StoreEventKind,
  type WatchOptions,
} from './watch.js';
export * from './errors.js';
export { retryOnConflict } from './retry.js';
