import type { Message, NodeId } from '../core/types.js';
import type { Transport, TransportHandlers } from './transport.js';

/**
 * An in-process network of transports for tests: messages are delivered on a later
 * event-loop turn (like a socket would), in order per peer. `partition` cuts links.
 */
export class MemoryNetwork {
  private readonly members = new Map<NodeId, TransportHandlers>();
  private readonly cut = new Set<string>();

  join(id: NodeId, handlers: TransportHandlers): MemoryTransport {
    this.members.set(id, handlers);
    return new MemoryTransport(id, this);
  }

  leave(id: NodeId): void {
    this.members.delete(id);
  }

  /** Drops every message between a and b, both ways, until heal(). */
  partition(a: NodeId, b: NodeId): void {
    this.cut.add(`${a}|${b}`).add(`${b}|${a}`);
  }

  heal(): void {
    this.cut.clear();
  }

  deliver(from: NodeId, m: Message): void {
    const target = this.members.get(m.to);
    const sender = this.members.get(from);
    if (!target || this.cut.has(`${from}|${m.to}`)) {
      sender?.onUnreachable(m.to);
      if (m.type === 'snap') sender?.onSnapshotStatus(m.to, false);
      return;
    }
    setImmediate(() => {
      target.onMessage(m);
      if (m.type === 'snap') sender?.onSnapshotStatus(m.to, true);
    });
  }
}

export class MemoryTransport implements Transport {
  private readonly peers = new Set<NodeId>();
  private closed = false;

  constructor(private readonly id: NodeId, private readonly net: MemoryNetwork) {}

  send(messages: Message[]): void {
    if (this.closed) return;
    for (const m of messages) if (this.peers.has(m.to)) this.net.deliver(this.id, m);
  }

  addPeer(id: NodeId): void {
    this.peers.add(id);
  }

  removePeer(id: NodeId): void {
    this.peers.delete(id);
  }

  close(): void {
    this.closed = true;
    this.net.leave(this.id);
  }
}
