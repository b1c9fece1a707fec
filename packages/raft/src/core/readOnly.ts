// ReadOnly: pending ReadIndex requests on the leader (thesis §6.4).
// A read at commit index c is safe once a quorum acknowledged a heartbeat
// sent after the request arrived: then no newer leader existed at that time.
// Requests are keyed by their context bytes (the host makes them unique).

import type { Message, NodeId } from './types.js';
import { ctxKey } from './util.js';

export interface ReadIndexStatus {
  req: Message;
  index: number;
  acks: Set<NodeId>;
}

export class ReadOnly {
  private readonly pending = new Map<string, ReadIndexStatus>();
  /** Keys in arrival order. Invariant: same key set as `pending`. */
  private queue: string[] = [];

  /** Registers a request that may be served at `index` once confirmed. */
  addRequest(index: number, m: Message): void {
    const k = ctxKey(m.context);
    if (this.pending.has(k)) return;
    this.pending.set(k, { req: m, index, acks: new Set() });
    this.queue.push(k);
  }

  /** Records a heartbeat ack for ctx; returns the acks so far, or undefined if unknown. */
  recvAck(id: NodeId, ctx: Uint8Array | undefined): Set<NodeId> | undefined {
    const rs = this.pending.get(ctxKey(ctx));
    if (!rs) return undefined;
    rs.acks.add(id);
    return rs.acks;
  }

  /**
   * The request with ctx is confirmed: it and every request queued before it
   * are served (an ack for a later heartbeat confirms the earlier ones too).
   */
  advance(ctx: Uint8Array | undefined): ReadIndexStatus[] {
    const k = ctxKey(ctx);
    const i = this.queue.indexOf(k);
    if (i < 0) return [];
    const done = this.queue.slice(0, i + 1);
    this.queue = this.queue.slice(i + 1);
    const out: ReadIndexStatus[] = [];
    for (const key of done) {
      const rs = this.pending.get(key);
      if (rs) out.push(rs);
      this.pending.delete(key);
    }
    return out;
  }

  lastPendingRequestCtx(): Uint8Array | undefined {
    if (this.queue.length === 0) return undefined;
    return this.pending.get(this.queue[this.queue.length - 1])?.req.context;
  }

  size(): number {
    return this.queue.length;
  }
}
