// Progress: the leader's view of one follower (thesis §3.5 nextIndex/matchIndex,
// plus etcd's flow-control states).
//
// States:
//  - probe:     we don't know where the follower's log matches; send one 'app'
//               at a time and wait (paused) for its answer or a heartbeat answer.
//  - replicate: the follower is caught up to `match`; stream 'app' messages
//               optimistically (next advances on send), bounded by Inflights.
//  - snapshot:  the follower needs a snapshot; send nothing until it reports.
//
// Invariant: match < next.

import { Inflights } from './inflights.js';

export type ProgressStateType = 'probe' | 'replicate' | 'snapshot';

export class Progress {
  match = 0;
  next: number;
  state: ProgressStateType = 'probe';
  /** In snapshot state: index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** Heard from within the current election timeout (check-quorum). */
  recentActive = false;
  /** Probe state: an 'app' is outstanding; wait for its answer or a heartbeat answer. */
  msgAppFlowPaused = false;
  readonly inflights: Inflights;
  isLearner: boolean;

  constructor(next: number, maxInflight: number, isLearner: boolean) {
    this.next = next;
    this.inflights = new Inflights(maxInflight);
    this.isLearner = isLearner;
  }

  private resetState(state: ProgressStateType): void {
    this.msgAppFlowPaused = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  becomeProbe(): void {
    if (this.state === 'snapshot') {
      // The snapshot (if it arrived) covers up to pendingSnapshot.
      const ps = this.pendingSnapshot;
      this.resetState('probe');
      this.next = Math.max(this.match + 1, ps + 1);
    } else {
      this.resetState('probe');
      this.next = this.match + 1;
    }
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1;
  }

  becomeSnapshot(snapshotIndex: number): void {
    this.resetState('snapshot');
    this.pendingSnapshot = snapshotIndex;
  }

  /** An ack for index n arrived. Returns true if match advanced. */
  maybeUpdate(n: number): boolean {
    let updated = false;
    if (this.match < n) {
      this.match = n;
      updated = true;
      this.msgAppFlowPaused = false;
    }
    this.next = Math.max(this.next, n + 1);
    return updated;
  }

  /**
   * An 'app' at index `rejected` was refused; `matchHint` is the follower's
   * guess of the last index that may match. Returns false if the rejection is
   * stale (out of order) and was ignored.
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      return true;
    }
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.msgAppFlowPaused = false;
    return true;
  }

  /** Bookkeeping after an 'app' carrying `count` entries ending at lastIndex was sent. */
  sentEntries(count: number, lastIndex: number): void {
    if (this.state === 'replicate') {
      if (count > 0) {
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex);
      }
    } else if (this.state === 'probe') {
      this.msgAppFlowPaused = true;
    }
  }

  /** True when the leader must not send more 'app' messages to this follower now. */
  isPaused(): boolean {
    switch (this.state) {
      case 'probe':
        return this.msgAppFlowPaused;
      case 'replicate':
        return this.inflights.full();
      case 'snapshot':
        return true;
    }
  }
}
