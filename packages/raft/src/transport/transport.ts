import type { Message, NodeId } from '../core/types.js';

/**
 * How Raft messages travel between members. Contract:
 * - `send` never blocks and never throws: a message that cannot be delivered is dropped
 *   (Raft retransmits) and the peer is reported through `onUnreachable`, so the leader
 *   falls back to probing it.
 * - Messages to one peer are delivered in the order they were sent, or not at all, except
 *   around a reconnect, when a few may overtake others (the gRPC transport switching Pipes).
 *   Raft tolerates that (stale appends and answers are recognised by index and term).
 * - A 'snap' message is delivered whole; the outcome is reported through
 *   `onSnapshotStatus` (ok=false lets the leader retry later).
 * - Incoming messages are handed to `onMessage` one at a time on the event loop; the
 *   node loop that owns the Raft core steps them. The transport keeps no Raft state.
 * - Peers are known only through addPeer/removePeer; messages to unknown peers are dropped.
 */
export interface Transport {
  send(messages: Message[]): void;
  addPeer(id: NodeId, address: string): void;
  removePeer(id: NodeId): void;
  /** Stops sending and releases connections; pending messages are dropped. */
  close(): void;
}

/** What a transport reports back to its owner (the node loop). */
export interface TransportHandlers {
  onMessage(message: Message): void;
  onUnreachable(peer: NodeId): void;
  onSnapshotStatus(peer: NodeId, ok: boolean): void;
}
