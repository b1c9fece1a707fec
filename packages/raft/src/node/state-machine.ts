// What the node loop feeds (the replicated state machine) and what it reports (its status):
// the interfaces between RaftNode and the code that runs on it.
import type { NodeId, StateType } from '../core/types.js';

/** The replicated state machine the node loop feeds, in log order, on every member. */
export interface StateMachine {
  /** Applies one committed payload; must be deterministic. `index` is its Raft index. */
  apply(index: number, data: Uint8Array): unknown;
  /** A committed entry that carries no payload (leader no-op, membership change). */
  advance?(index: number): void;
  /** The applied state, for a snapshot at the last applied index. */
  snapshot(): Uint8Array;
  /**
   * Optional: the applied state captured now, encoded later (in slices, between which the
   * loop goes on applying). When given, the periodic snapshot uses it instead of `snapshot()`,
   * so a large state does not hold the node for as long as encoding it takes.
   */
  captureSnapshot?(): CapturedState;
  /** Replaces the whole state with a snapshot's (received from the leader or loaded at start). */
  restore(data: Uint8Array, index: number): void;
}

/**
 * A state captured at one index and encoded later, straight into the buffer the snapshot file
 * is built in: measured first, so that buffer is allocated once at its final size.
 */
export interface CapturedState {
  /** The encoding's length in bytes. */
  size(): Promise<number>;
  /** Writes the encoding into `out`, exactly size() bytes long. */
  writeInto(out: Uint8Array): Promise<void>;
}

export interface RaftStatus {
  id: NodeId;
  state: StateType;
  leader: NodeId;
  term: number;
  commit: number;
  applied: number;
  members: Array<{ id: NodeId; address: string; voter: boolean }>;
}
