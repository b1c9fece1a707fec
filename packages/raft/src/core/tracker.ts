// ProgressTracker: the current membership (voters + learners), the leader's
// Progress for each member, and votes collected during an election.
// Membership changes one node at a time (thesis §4.1), so there is a single
// majority configuration, never a joint one.
//
// Invariant: voters and learners are disjoint; progress has exactly their union
// as keys.

import { Progress } from './progress.js';
import type { ConfState, NodeId } from './types.js';

export type VoteResult = 'pending' | 'won' | 'lost';

export class ProgressTracker {
  readonly voters = new Set<NodeId>();
  readonly learners = new Set<NodeId>();
  readonly progress = new Map<NodeId, Progress>();
  /** Votes received in the current (pre-)election: id -> granted. */
  readonly votes = new Map<NodeId, boolean>();
  private readonly matchBuf: number[] = [];

  constructor(readonly maxInflight: number) {}

  confState(): ConfState {
    return { voters: [...this.voters].sort(), learners: [...this.learners].sort() };
  }

  isSingleton(): boolean {
    return this.voters.size === 1;
  }

  quorum(): number {
    return (this.voters.size >> 1) + 1;
  }

  /**
   * Highest index stored on a quorum of voters (thesis §3.6). 0 with no voters.
   * Allocation-free insertion sort over the voters' match indexes (few voters).
   */
  committed(): number {
    const n = this.voters.size;
    if (n === 0) return 0;
    const buf = this.matchBuf;
    let len = 0;
    for (const id of this.voters) {
      const m = this.progress.get(id)?.match ?? 0;
      let j = len++;
      while (j > 0 && buf[j - 1] < m) {
        buf[j] = buf[j - 1];
        j--;
      }
      buf[j] = m;
    }
    return buf[this.quorum() - 1];
  }

  resetVotes(): void {
    this.votes.clear();
  }

  recordVote(id: NodeId, granted: boolean): void {
    if (!this.votes.has(id)) this.votes.set(id, granted);
  }

  tallyVotes(): { granted: number; rejected: number; result: VoteResult } {
    let granted = 0;
    let rejected = 0;
    for (const id of this.voters) {
      const v = this.votes.get(id);
      if (v === undefined) continue;
      if (v) granted++;
      else rejected++;
    }
    return { granted, rejected, result: this.voteResult(granted, rejected) };
  }

  private voteResult(granted: number, rejected: number): VoteResult {
    const q = this.quorum();
    if (this.voters.size === 0) return 'won';
    if (granted >= q) return 'won';
    if (this.voters.size - rejected < q) return 'lost';
    return 'pending';
  }

  /** Whether the voters in `acks` form a quorum (learners' acks don't count). */
  hasQuorum(acks: ReadonlySet<NodeId>): boolean {
    let n = 0;
    for (const id of acks) if (this.voters.has(id)) n++;
    return n >= this.quorum();
  }

  /** Check-quorum (thesis §6.2): a quorum of voters was recently active. */
  quorumActive(selfId: NodeId): boolean {
    let n = 0;
    for (const id of this.voters) {
      if (id === selfId || this.progress.get(id)?.recentActive) n++;
    }
    return n >= this.quorum();
  }

  /** Adds or moves a member; a new member's progress starts at next. */
  addMember(id: NodeId, learner: boolean, next: number): Progress {
    let pr = this.progress.get(id);
    if (!pr) {
      pr = new Progress(next, this.maxInflight, learner);
      // A new member counts as active so check-quorum doesn't depose us before it talks.
      pr.recentActive = true;
      this.progress.set(id, pr);
    }
    pr.isLearner = learner;
    if (learner) {
      this.voters.delete(id);
      this.learners.add(id);
    } else {
      this.learners.delete(id);
      this.voters.add(id);
    }
    return pr;
  }

  removeMember(id: NodeId): void {
    this.voters.delete(id);
    this.learners.delete(id);
    this.progress.delete(id);
    this.votes.delete(id);
  }
}
