// The fault injector: at random intervals it partitions the network (three
// shapes), or crashes a node and restarts it later. Every fault heals by
// itself after a random duration; the final phase heals whatever is left.
//
// Faults favour the leader (it is isolated or crashed about half the time):
// faults on followers rarely exercise the interesting paths (elections,
// stale leaders, log repair).

import type { NodeId } from '../../src/core/types.js';
import type { EventQueue } from './eventQueue.js';
import type { Network } from './network.js';
import type { Rng } from './rng.js';
import type { SimNode } from './simNode.js';
import type { Trace } from './trace.js';

export interface FaultToggles {
  loss: boolean;
  duplicate: boolean;
  reorder: boolean;
  delay: boolean;
  /** Symmetric partition: two groups that cannot talk at all. */
  partition: boolean;
  /** One node can send but not receive, or receive but not send. */
  asymmetric: boolean;
  /** A few links cut while the rest of the graph stays connected. */
  partial: boolean;
  crash: boolean;
  /** At a crash, a random prefix of the unsynced writes survives. */
  torn: boolean;
  /** Nodes tick at different rates (±30%). */
  drift: boolean;
  /** Remove a voter, add it back as a learner, promote it — while faults go on. */
  membership: boolean;
  /** The leader is asked to hand leadership to another voter. */
  transfer: boolean;
}

export const ALL_FAULTS: FaultToggles = {
  loss: true, duplicate: true, reorder: true, delay: true, partition: true, asymmetric: true,
  partial: true, crash: true, torn: true, drift: true, membership: true, transfer: true,
};

export const FAULT_NAMES = Object.keys(ALL_FAULTS) as (keyof FaultToggles)[];

export interface FaultEnv {
  q: EventQueue;
  rng: Rng;
  trace: Trace;
  network: Network;
  nodes: readonly SimNode[];
  toggles: FaultToggles;
  /** Virtual time after which no new fault starts. */
  stopMs: number;
  /** Gap between two faults is uniform in [100, maxGapMs]; drawn per seed, so seeds range from stormy to mild. */
  maxGapMs: number;
}

type Link = [NodeId, NodeId];

export class FaultInjector {
  private down = new Set<SimNode>();
  partitions = 0;
  crashes = 0;

  constructor(private readonly env: FaultEnv) {}

  start(): void {
    this.scheduleNext();
  }

  /** Restarts every crashed node (final phase). Partitions are healed by the network. */
  restartAll(): void {
    for (const n of [...this.down]) this.restart(n);
  }

  private scheduleNext(): void {
    const { q, rng } = this.env;
    q.after(rng.int(100, this.env.maxGapMs), () => {
      if (q.nowMs >= this.env.stopMs) return;
      this.inject();
      this.scheduleNext();
    });
  }

  private inject(): void {
    const t = this.env.toggles;
    const kinds: Array<() => void> = [];
    if (t.partition) kinds.push(() => this.symmetric());
    if (t.asymmetric) kinds.push(() => this.asymmetric());
    if (t.partial) kinds.push(() => this.partial());
    if (t.crash) kinds.push(() => this.crash());
    if (t.transfer) kinds.push(() => this.transfer());
    if (kinds.length > 0) this.env.rng.pick(kinds)();
  }

  /** The node most worth hurting: the leader half the time, else anyone. */
  private victim(): SimNode {
    const leader = this.env.nodes.find((n) => n.isLeader);
    return leader && this.env.rng.chance(0.5) ? leader : this.env.rng.pick(this.env.nodes);
  }

  private ids(): NodeId[] {
    return this.env.nodes.map((n) => n.id);
  }

  private symmetric(): void {
    const { rng } = this.env;
    const ids = this.ids();
    const v = this.victim().id;
    // A minority containing the victim; the rest form the other side.
    const size = rng.int(1, Math.floor((ids.length - 1) / 2));
    const others = rng.shuffle(ids.filter((id) => id !== v));
    const side = new Set([v, ...others.slice(0, size - 1)]);
    const links: Link[] = [];
    for (const a of ids) for (const b of ids) if (side.has(a) !== side.has(b)) links.push([a, b]);
    this.block(links, `partition {${[...side].join(',')}} | {${ids.filter((id) => !side.has(id)).join(',')}}`);
  }

  private asymmetric(): void {
    const v = this.victim().id;
    const outbound = this.env.rng.chance(0.5);
    const links: Link[] = this.ids().filter((id) => id !== v).map((id) => (outbound ? [v, id] : [id, v]));
    this.block(links, `asymmetric: ${v} ${outbound ? 'cannot send' : 'cannot receive'}`);
  }

  private partial(): void {
    const { rng } = this.env;
    const ids = this.ids();
    const pairs: Link[] = [];
    for (let i = 0; i < ids.length; i++) for (let j = i + 1; j < ids.length; j++) pairs.push([ids[i], ids[j]]);
    const cut = rng.shuffle(pairs).slice(0, rng.int(1, Math.max(1, ids.length - 2)));
    const links: Link[] = cut.flatMap(([a, b]) => [[a, b], [b, a]] as Link[]);
    this.block(links, `partial: cut ${cut.map(([a, b]) => `${a}-${b}`).join(' ')}`);
  }

  private block(links: Link[], what: string): void {
    const { q, rng, trace, network } = this.env;
    const healAfterMs = rng.int(100, 1500);
    this.partitions++;
    network.block(links);
    trace.note(q.nowMs, `P${links.length}:${healAfterMs}`, () => `${what} for ${healAfterMs}ms`);
    q.after(healAfterMs, () => {
      network.unblock(links);
      trace.note(q.nowMs, `H${links.length}`, () => `heal: ${what}`);
    });
  }

  private crash(): void {
    const { q, rng, toggles, nodes } = this.env;
    // Keep a majority of machines up: more crashes stall the run without
    // testing anything new (a stalled cluster is safe by definition).
    if (this.down.size >= Math.floor((nodes.length - 1) / 2)) return;
    const n = this.victim();
    if (!n.up) return;
    this.crashes++;
    this.down.add(n);
    // Half the crashes strike inside a write (between write and fsync); if the
    // node writes nothing soon, it crashes anyway.
    if (rng.chance(0.5)) n.armCrash(toggles.torn);
    const crashesBefore = n.crashCount;
    // Unless it crashed (or was restarted by the final phase) meanwhile.
    q.after(rng.int(0, 100), () => {
      if (n.crashCount === crashesBefore) n.crash(toggles.torn);
    });
    q.after(rng.int(120, 1500), () => this.restart(n));
  }

  private transfer(): void {
    const { q, rng, trace, nodes } = this.env;
    const leader = nodes.find((n) => n.isLeader);
    if (!leader) return;
    const targets = leader.confState.voters.filter((id) => id !== leader.id);
    if (targets.length === 0) return;
    const to = rng.pick(targets);
    const ok = leader.transferLeadership(to);
    trace.note(q.nowMs, `T${leader.id}:${to}:${ok}`, () => `transfer leadership ${leader.id} -> ${to}: ${ok ? 'requested' : 'refused'}`);
  }

  private restart(n: SimNode): void {
    if (!this.down.delete(n)) return;
    n.crash(false); // no-op unless still up (final phase restarts early)
    n.start();
  }
}
