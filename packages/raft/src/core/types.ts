// Public contract of the Raft core. The core is a deterministic state machine
// in the style of etcd-io/raft: messages and ticks in, Ready (entries to
// persist, messages to send, entries to apply) out. No clock, no I/O, no
// Math.random inside: time is tick() calls, randomness is Config.rng.

/** A manager's node ID; '' (NONE) means "no node". */
export type NodeId = string;
export const NONE: NodeId = '';

export type EntryType = 'normal' | 'confChange';

/** A log entry. For type 'confChange', data is encodeConfChange(cc). */
export interface Entry {
  term: number;
  index: number;
  type: EntryType;
  data: Uint8Array;
}

/** What must be persisted before messages of the same Ready are sent. */
export interface HardState {
  term: number;
  vote: NodeId;
  commit: number;
}

export interface ConfState {
  voters: NodeId[];
  learners: NodeId[];
}

export interface SnapshotMetadata {
  index: number;
  term: number;
  confState: ConfState;
}

/**
 * A state-machine snapshot. The core passes it whole in a 'snap' message;
 * chunking it on the wire (InstallSnapshot in pieces) is the transport's job.
 */
export interface Snapshot {
  metadata: SnapshotMetadata;
  data: Uint8Array;
}

/** addNode on an existing learner promotes it to voter. */
export type ConfChangeType = 'addNode' | 'addLearner' | 'removeNode';

export interface ConfChange {
  type: ConfChangeType;
  nodeId: NodeId;
  context?: Uint8Array;
}

export type MessageType =
  | 'hup'            // local: start an election
  | 'beat'           // local: leader sends heartbeats
  | 'prop'           // proposal (local, or forwarded by a follower)
  | 'app'            // append entries
  | 'appResp'
  | 'vote'
  | 'voteResp'
  | 'preVote'
  | 'preVoteResp'
  | 'snap'           // install snapshot
  | 'heartbeat'
  | 'heartbeatResp'
  | 'timeoutNow'     // leader transfer: campaign now, ignoring the lease
  | 'transferLeader' // local or forwarded: request a leadership transfer (from = transferee)
  | 'readIndex'
  | 'readIndexResp'
  | 'unreachable'    // local: transport reports a peer unreachable
  | 'snapStatus'     // local: transport reports a snapshot send result (reject = failed)
  | 'checkQuorum';   // local: leader checks it heard from a quorum

export interface Message {
  type: MessageType;
  from: NodeId;
  to: NodeId;
  term: number;
  logTerm: number;
  index: number;
  entries: Entry[];
  commit: number;
  reject: boolean;
  rejectHint: number;
  snapshot?: Snapshot;
  context?: Uint8Array;
  /**
   * 'app' only, set only by the leader: an append without entries that carries the commit
   * index to a follower in replicate state whose acknowledgement of everything up to `index`
   * the leader already holds or has in flight. The follower answers it only when it rejects;
   * a success answer would repeat what the leader knows or is about to learn.
   */
  commitOnly?: boolean;
}

/** Result of a ReadIndex request: reads at `index` or later are linearizable once applied. */
export interface ReadState {
  index: number;
  requestCtx: Uint8Array;
}

export type StateType = 'follower' | 'candidate' | 'preCandidate' | 'leader';

/** Volatile state, reported when it changes; need not be persisted. */
export interface SoftState {
  lead: NodeId;
  state: StateType;
}

/**
 * Work for the host. Order of handling (as etcd): persist snapshot, entries and
 * hardState (fsync if mustSync), then send messages, then apply snapshot and
 * committedEntries, then call advance(rd).
 */
export interface Ready {
  softState?: SoftState;
  hardState?: HardState;
  entries: Entry[];
  snapshot?: Snapshot;
  committedEntries: Entry[];
  messages: Message[];
  readStates: ReadState[];
  mustSync: boolean;
}

/**
 * Read side of the durable log that the core uses (like etcd's Storage).
 * The core never writes it; the host appends what Ready tells it to persist.
 * See storageErrors.ts for CompactedError / UnavailableError.
 */
export interface Storage {
  /** Durable HardState and the ConfState of the latest applied membership. */
  initialState(): { hardState: HardState; confState: ConfState };
  /** Entries in [lo, hi), at most maxBytes (always at least one if any). Throws CompactedError / UnavailableError. */
  entries(lo: number, hi: number, maxBytes: number): Entry[];
  /** Term of entry i, for i in [firstIndex()-1, lastIndex()]. Throws CompactedError / UnavailableError. */
  term(i: number): number;
  /** Index of the first entry still available (snapshot index + 1). */
  firstIndex(): number;
  lastIndex(): number;
  /** The most recent snapshot. May throw SnapshotTemporarilyUnavailableError. */
  snapshot(): Snapshot;
}

export interface Logger {
  debug(m: string): void;
  info(m: string): void;
  warn(m: string): void;
}

export interface Config {
  id: NodeId;
  /** Ticks without hearing from a leader before a follower campaigns; randomized in [electionTick, 2*electionTick). */
  electionTick: number;
  /** Ticks between leader heartbeats. Must be < electionTick. */
  heartbeatTick: number;
  storage: Storage;
  /** Last applied index at restart (entries <= applied are not returned again). */
  applied: number;
  /** Max bytes of entries per 'app' message (at least one entry is always sent). */
  maxSizePerMsgBytes: number;
  /** Max in-flight 'app' messages per follower in replicate state. */
  maxInflightMsgs: number;
  /** Max bytes of uncommitted entries on the leader; proposals beyond are dropped. 0 = unlimited. */
  maxUncommittedEntriesBytes: number;
  checkQuorum: boolean;
  preVote: boolean;
  /**
   * The leader counts its own copy of an entry only once the host reports it durable
   * (RawNode.leaderPersisted), instead of when it is appended. The host may then let a
   * leader's writes run beside its loop — stepping acknowledgements and proposals, and
   * committing with a quorum of followers, while its own write is in flight (thesis
   * §10.2.1) — instead of holding the loop until each Ready is on disk. The host must still
   * write every non-leader Ready before acting on it, so a node that becomes leader holds
   * only durable entries (its count of itself starts at its last index). Default false: the
   * leader counts itself at append, and the host persists a Ready before advancing.
   */
  leaderWritesAsync?: boolean;
  /** Returns a number in [0, 1). Injected for determinism. */
  rng: () => number;
  logger?: Logger;
}
