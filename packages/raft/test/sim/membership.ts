// The operator: changes membership while faults go on, cycling one node at a
// time through remove → addLearner → addNode (promote). It proposes only on a
// node that believes it leads, only when it has no change of its own still
// outstanding, and treats the core's refusal (one unapplied change at a time,
// or no-op of the term not yet applied) as "try later". At most one node is
// out of the voter set at any time, so quorum never drops below n-1 voters.

import type { ConfChange, ConfState, NodeId } from '../../src/core/types.js';
import type { EventQueue } from './eventQueue.js';
import type { Rng } from './rng.js';
import type { SimNode } from './simNode.js';
import type { Trace } from './trace.js';

export interface OperatorEnv {
  q: EventQueue;
  rng: Rng;
  trace: Trace;
  nodes: readonly SimNode[];
}

/** Give up waiting for an outstanding change after this long; it was lost with its leader. */
const CHANGE_TIMEOUT_MS = 3000;

export class MembershipOperator {
  private outstanding: { tag: string; sinceMs: number } | null = null;
  private seq = 0;
  /** After stop, only changes that bring the cluster back to all-voters are made. */
  private restoring = false;
  proposed = 0;
  applied = 0;

  constructor(private readonly env: OperatorEnv) {}

  start(): void {
    this.scheduleNext();
  }

  /** Final phase: finish any cycle in progress but begin no new removal. */
  restoreOnly(): void {
    this.restoring = true;
  }

  /** Hooked to every node's apply of a conf change. */
  onApplied(cc: ConfChange): void {
    if (this.outstanding && cc.context && new TextDecoder().decode(cc.context) === this.outstanding.tag) {
      this.outstanding = null;
      this.applied++;
    }
  }

  private scheduleNext(): void {
    const { q, rng } = this.env;
    q.after(rng.int(200, 1200), () => {
      this.step();
      this.scheduleNext();
    });
  }

  private step(): void {
    const { q, trace } = this.env;
    if (this.outstanding && q.nowMs - this.outstanding.sinceMs < CHANGE_TIMEOUT_MS) return;
    this.outstanding = null;
    const leader = this.leader();
    if (!leader || !leader.confChangeIdle()) return;
    const cc = this.nextChange(leader.confState, leader.id);
    if (!cc) return;
    const tag = `op${++this.seq}`;
    cc.context = new TextEncoder().encode(tag);
    const ok = leader.proposeConfChange(cc);
    trace.note(q.nowMs, `M${cc.type}:${cc.nodeId}:${ok}`, () =>
      `operator proposes ${cc.type} ${cc.nodeId} at ${leader.id}: ${ok ? 'accepted' : 'refused'}`);
    if (!ok) return;
    this.proposed++;
    this.outstanding = { tag, sinceMs: q.nowMs };
  }

  private leader(): SimNode | undefined {
    let best: SimNode | undefined;
    for (const n of this.env.nodes) if (n.isLeader && (!best || n.term > best.term)) best = n;
    return best;
  }

  private nextChange(cs: ConfState, leaderId: NodeId): ConfChange | null {
    const all = this.env.nodes.map((n) => n.id);
    const learner = cs.learners[0];
    if (learner !== undefined) return { type: 'addNode', nodeId: learner };
    const absent = all.find((id) => !cs.voters.includes(id) && !cs.learners.includes(id));
    if (absent !== undefined) return { type: 'addLearner', nodeId: absent };
    if (this.restoring || cs.voters.length < all.length) return null;
    // Removing the leader itself is allowed (it steps down), but rarer.
    const candidates = cs.voters.filter((id) => id !== leaderId || this.env.rng.chance(0.2));
    return candidates.length > 0 ? { type: 'removeNode', nodeId: this.env.rng.pick(candidates) } : null;
  }
}
