// The contract between the store and whatever runs consensus (the manager's Raft node
// loop). The store knows nothing of terms, leaders or logs; it only needs these two
// directions:
//
//   store  → Raft : Proposer.propose(bytes), Proposer.readIndex()
//   Raft   → store: ReplicatedStateMachine.apply / advance / snapshot / restore
//
// Threading (Node is single-threaded, but the order of calls matters):
// - The owner calls apply/advance/restore from one place (its apply loop), one at a
//   time, in log order. They are synchronous and never wait for watchers or callers.
// - propose/readIndex may be called at any time, any number of times concurrently.

/**
 * Implemented by the Raft node loop. Both methods may reject with the consensus layer's
 * own errors (not leader, stopped, timed out); the store passes those to its caller
 * unchanged.
 */
export interface Proposer {
  /**
   * Appends `data` (an encoded StoreTransaction, owned by the proposer from now on) to
   * the replicated log. Resolves with the index the entry was committed at. It may
   * resolve before or after the owner feeds that entry to `apply`; the store waits for
   * its own apply either way.
   *
   * A rejection means "not known to be committed": the entry may still commit later
   * (e.g. the leader stepped down after appending it). The store then reports the
   * rejection to the caller and applies the entry silently if it does arrive.
   */
  propose(data: Uint8Array): Promise<number>;

  /**
   * Resolves with an index R such that every write acknowledged before this call is at
   * or below R (Raft §6.4 ReadIndex: the leader's commit index confirmed by a quorum).
   * The store then waits until its own applied version reaches R before reading, so an
   * implementation may resolve as soon as R is known.
   */
  readIndex(): Promise<number>;
}

/** What the owner feeds. Implemented by Store; listed here so the owner sees its side. */
export interface ReplicatedStateMachine {
  /** The Raft index of the last entry applied or advanced over; 0 when empty. */
  readonly version: number;

  /**
   * Applies one committed entry whose data is an encoded StoreTransaction.
   * Invariant: index > version (throws otherwise — a replay or reordering bug in the owner
   * would silently break determinism). A transaction that fails validation is rejected
   * as a whole, deterministically; the version still moves to `index`.
   */
  apply(index: number, data: Uint8Array): ApplyOutcome;

  /** A committed entry that is not a store transaction (leader no-op, membership change). */
  advance(index: number): void;

  /** The whole state at `version`, deterministic bytes (StoreSnapshot). */
  snapshot(): Uint8Array;

  /** Replaces the whole state; watchers and pending transactions are failed (see errors.ts). */
  restore(snapshot: Uint8Array): void;
}

/** For the owner's logs; a rejection is a normal outcome, not a failure of the store. */
export type ApplyOutcome =
  | { readonly applied: true; readonly requestId: string; readonly events: number }
  | { readonly applied: false; readonly requestId: string; readonly reason: Error };
