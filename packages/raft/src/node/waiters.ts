import type { ProposalId } from './envelope.js';

/** A promise waiting for something the node loop will do later, with its deadline. */
interface Waiter<T> {
  resolve(v: T): void;
  reject(e: Error): void;
  deadlineMs: number;
}

/**
 * Proposals this node made, waiting for their entry to be applied here. Keyed by the
 * envelope's sequence number (the tag is this node's own). Owned by the node loop.
 */
export class ProposalWaiters {
  private readonly waiting = new Map<bigint, Waiter<number>>();
  private nextSeq = 1n;

  constructor(readonly tag: bigint) {}

  add(deadlineMs: number): { id: ProposalId; promise: Promise<number> } {
    const seq = this.nextSeq++;
    let w!: Waiter<number>;
    const promise = new Promise<number>((resolve, reject) => (w = { resolve, reject, deadlineMs }));
    this.waiting.set(seq, w);
    return { id: { tag: this.tag, seq }, promise };
  }

  /** An entry carrying `id` was applied at `index`. */
  applied(id: ProposalId, index: number): void {
    if (id.tag !== this.tag) return;
    const w = this.waiting.get(id.seq);
    if (!w) return;
    this.waiting.delete(id.seq);
    w.resolve(index);
  }

  fail(id: ProposalId, e: Error): void {
    const w = this.waiting.get(id.seq);
    if (!w) return;
    this.waiting.delete(id.seq);
    w.reject(e);
  }

  /** Rejects everything past its deadline; cost is linear in waiters, run once per tick. */
  expire(nowMs: number, error: () => Error): void {
    for (const [seq, w] of this.waiting) {
      if (w.deadlineMs <= nowMs) {
        this.waiting.delete(seq);
        w.reject(error());
      }
    }
  }

  failAll(e: Error): void {
    for (const w of this.waiting.values()) w.reject(e);
    this.waiting.clear();
  }

  get size(): number {
    return this.waiting.size;
  }
}

/**
 * Linearizable reads, batched like etcd's: at most one ReadIndex request is in flight;
 * every read that arrived before it was sent is answered by it. A read resolves once the
 * local applied index reaches the read index the leader confirmed.
 */
export class ReadWaiters {
  private queued: Array<Waiter<number>> = [];
  private inFlight: { ctx: bigint; waiters: Array<Waiter<number>> } | undefined;
  private ready: Array<{ index: number; waiters: Array<Waiter<number>> }> = [];
  private nextCtx = 1n;

  add(deadlineMs: number): Promise<number> {
    return new Promise((resolve, reject) => this.queued.push({ resolve, reject, deadlineMs }));
  }

  /** If reads are queued and none in flight, returns the ctx to send with readIndex(). */
  takeRequest(): Uint8Array | undefined {
    if (this.inFlight || this.queued.length === 0) return undefined;
    const ctx = this.nextCtx++;
    this.inFlight = { ctx, waiters: this.queued };
    this.queued = [];
    const b = Buffer.allocUnsafe(8);
    b.writeBigUInt64BE(ctx);
    return b;
  }

  /** The core answered a ReadIndex request. */
  readState(ctx: Uint8Array, index: number): void {
    if (!this.inFlight || ctx.length !== 8) return;
    if (Buffer.from(ctx.buffer, ctx.byteOffset, 8).readBigUInt64BE() !== this.inFlight.ctx) return;
    this.ready.push({ index, waiters: this.inFlight.waiters });
    this.inFlight = undefined;
  }

  /** Resolves every batch whose read index has been applied. */
  applied(appliedIndex: number): void {
    if (this.ready.length === 0) return;
    const still: typeof this.ready = [];
    for (const r of this.ready) {
      if (r.index <= appliedIndex) for (const w of r.waiters) w.resolve(r.index);
      else still.push(r);
    }
    this.ready = still;
  }

  /** Fails reads past their deadline; a lost in-flight request is abandoned so the next can go. */
  expire(nowMs: number, error: () => Error): void {
    const keep = (ws: Array<Waiter<number>>) => ws.filter((w) => (w.deadlineMs <= nowMs ? (w.reject(error()), false) : true));
    this.queued = keep(this.queued);
    if (this.inFlight) {
      this.inFlight.waiters = keep(this.inFlight.waiters);
      if (this.inFlight.waiters.length === 0) this.inFlight = undefined;
    }
    for (const r of this.ready) r.waiters = keep(r.waiters);
    this.ready = this.ready.filter((r) => r.waiters.length > 0);
  }

  /** The core refused the in-flight request (no leader): its reads fail now, with `e`. */
  failInFlight(e: Error): void {
    for (const w of this.inFlight?.waiters ?? []) w.reject(e);
    this.inFlight = undefined;
  }

  /** A leadership change voids the in-flight request: it may never be answered. */
  retryInFlight(): void {
    if (!this.inFlight) return;
    this.queued = this.inFlight.waiters.concat(this.queued);
    this.inFlight = undefined;
  }

  failAll(e: Error): void {
    for (const w of [...this.queued, ...(this.inFlight?.waiters ?? []), ...this.ready.flatMap((r) => r.waiters)]) w.reject(e);
    this.queued = [];
    this.inFlight = undefined;
    this.ready = [];
  }
}
