// The simulated network between Raft nodes: per-message delay, loss,
// duplication and reordering, plus partitions expressed as a set of blocked
// directed links. A symmetric partition blocks both directions of every link
// across the cut; an asymmetric one blocks one direction; a partial one cuts a
// few links while the rest of the graph stays connected.
//
// A message is dropped if its link is blocked when it is sent or when it would
// be delivered: a partition takes effect at once, as a cable pull does.

import type { Message, NodeId } from '../../src/core/types.js';
import type { EventQueue } from './eventQueue.js';
import type { Rng } from './rng.js';
import type { Trace } from './trace.js';

export interface NetworkFaults {
  /** Drop a message with probability lossRate. */
  loss: boolean;
  /** Deliver a message twice with probability dupRate. */
  duplicate: boolean;
  /** Without reorder, each directed link is FIFO. */
  reorder: boolean;
  /** Occasionally hold a message for a long time (up to maxDelayMs). */
  delay: boolean;
}

export interface NetworkRates {
  lossRate: number;
  dupRate: number;
  longDelayRate: number;
  /** Ordinary one-way latency is uniform in [minLatencyMs, maxLatencyMs]. */
  minLatencyMs: number;
  maxLatencyMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RATES: NetworkRates = {
  lossRate: 0.03,
  dupRate: 0.02,
  longDelayRate: 0.02,
  minLatencyMs: 1,
  maxLatencyMs: 6,
  // Long enough to outlive an election timeout, so stale messages from old
  // terms arrive after the cluster moved on.
  maxDelayMs: 400,
};

export class Network {
  /** Directed link "from>to" → number of active faults blocking it. */
  private blocked = new Map<string, number>();
  /** Last scheduled delivery time per link, to keep links FIFO when reorder is off. */
  private lastDelivery = new Map<string, number>();
  /** Set by the final phase: no more loss, duplication or long delays. */
  calm = false;
  sent = 0;
  dropped = 0;

  constructor(
    private readonly q: EventQueue,
    private readonly rng: Rng,
    private readonly trace: Trace,
    private readonly faults: NetworkFaults,
    private readonly rates: NetworkRates,
    private readonly handlers: {
      /** Hands the message to its destination (which may be down). */
      deliver(m: Message): void;
      /** A message was lost; the sim tells the sender for 'snap' (the transport's job). */
      dropped(m: Message): void;
    },
  ) {}

  isBlocked(from: NodeId, to: NodeId): boolean {
    return (this.blocked.get(`${from}>${to}`) ?? 0) > 0;
  }

  block(links: Array<[NodeId, NodeId]>): void {
    for (const [a, b] of links) this.blocked.set(`${a}>${b}`, (this.blocked.get(`${a}>${b}`) ?? 0) + 1);
  }

  unblock(links: Array<[NodeId, NodeId]>): void {
    for (const [a, b] of links) {
      const k = `${a}>${b}`;
      const n = (this.blocked.get(k) ?? 0) - 1;
      if (n <= 0) this.blocked.delete(k);
      else this.blocked.set(k, n);
    }
  }

  healAll(): void {
    this.blocked.clear();
  }

  send(m: Message): void {
    this.sent++;
    const now = this.q.nowMs;
    const code = `${m.from}>${m.to}:${m.type}:${m.term}:${m.index}`;
    if (this.isBlocked(m.from, m.to)) {
      this.drop(now, code, 'partitioned', m);
      return;
    }
    if (!this.calm && this.faults.loss && this.rng.chance(this.rates.lossRate)) {
      this.drop(now, code, 'lost', m);
      return;
    }
    const copies = !this.calm && this.faults.duplicate && this.rng.chance(this.rates.dupRate) ? 2 : 1;
    for (let c = 0; c < copies; c++) this.schedule(m, code);
  }

  private schedule(m: Message, code: string): void {
    const now = this.q.nowMs;
    let latency = this.rng.int(this.rates.minLatencyMs, this.rates.maxLatencyMs);
    if (!this.calm && this.faults.delay && this.rng.chance(this.rates.longDelayRate)) {
      latency = this.rng.int(this.rates.maxLatencyMs, this.rates.maxDelayMs);
    }
    let at = now + latency;
    const link = `${m.from}>${m.to}`;
    if (!this.faults.reorder) {
      // FIFO per link: never overtake the previous message on this link.
      at = Math.max(at, this.lastDelivery.get(link) ?? 0);
      this.lastDelivery.set(link, at);
    }
    this.trace.note(now, `s${code}@${at}`, () => `send ${describe(m)} deliver@${at}`);
    this.q.at(at, () => {
      if (this.isBlocked(m.from, m.to)) {
        this.drop(this.q.nowMs, code, 'partitioned in flight', m);
        return;
      }
      this.trace.note(this.q.nowMs, `r${code}`, () => `recv ${describe(m)}`);
      this.handlers.deliver(m);
    });
  }

  private drop(now: number, code: string, why: string, m: Message): void {
    this.dropped++;
    this.trace.note(now, `x${code}`, () => `drop (${why}) ${describe(m)}`);
    this.handlers.dropped(m);
  }
}

export function describe(m: Message): string {
  let s = `${m.type} ${m.from}->${m.to} term=${m.term}`;
  if (m.type === 'app' || m.type === 'appResp' || m.type === 'vote' || m.type === 'preVote') {
    s += ` logTerm=${m.logTerm} index=${m.index}`;
  }
  if (m.entries.length > 0) s += ` ents=${m.entries[0].index}..${m.entries[m.entries.length - 1].index}`;
  if (m.commit > 0) s += ` commit=${m.commit}`;
  if (m.reject) s += ` reject(hint=${m.rejectHint})`;
  if (m.snapshot) s += ` snap@${m.snapshot.metadata.index}`;
  return s;
}
