import * as grpc from '@grpc/grpc-js';
import { RaftBatch, RaftServer, RaftStreamEnd, SnapshotAck, SnapshotChunk } from '@tswarm/api';
import type { Message, NodeId } from '../core/types.js';
import { fromWire } from './codec.js';
import { PeerSender } from './peer-sender.js';
import type { Transport, TransportHandlers } from './transport.js';

export interface GrpcTransportOptions {
  id: NodeId;
  /** Credentials for dialing peers: mutual TLS in a cluster, insecure only in tests. */
  credentials: grpc.ChannelCredentials;
  channelOptions?: grpc.ChannelOptions;
  handlers: TransportHandlers;
  /**
   * Checks an incoming call before any message is accepted and returns the caller's
   * node ID when the credentials prove one (mTLS). Throw a grpc status error to refuse.
   * Messages whose `from` differs from a proven caller ID are dropped.
   */
  authorize?: (call: grpc.ServerReadableStream<unknown, unknown>) => NodeId | undefined;
  nowMs?: () => number;
}

/** A snapshot larger than this is refused: it would not fit the receiver's memory sensibly. */
export const MAX_SNAPSHOT_BYTES = 2 ** 31;

/**
 * Raft messages over gRPC on the cluster port: the sending half (one PeerSender per
 * peer) and the receiving half (`service()`, registered by the owner on its server).
 */
export class GrpcTransport implements Transport {
  private readonly peers = new Map<NodeId, PeerSender>();
  private readonly nowMs: () => number;

  constructor(private readonly opts: GrpcTransportOptions) {
    this.nowMs = opts.nowMs ?? (() => performance.now());
  }

  send(messages: Message[]): void {
    for (const m of messages) {
      const p = this.peers.get(m.to);
      if (p) p.send(m);
    }
  }

  addPeer(id: NodeId, address: string): void {
    const existing = this.peers.get(id);
    if (existing?.address === address) return;
    existing?.close();
    const { handlers } = this.opts;
    this.peers.set(id, new PeerSender(id, address, this.opts.credentials, {
      'grpc.max_receive_message_length': 64 << 20,
      'grpc.max_send_message_length': 64 << 20,
      // No gRPC-level retries: Raft retransmits lost messages itself, and grpc-js's retry
      // layer would keep every message of the long-lived stream in a replay buffer and hold
      // each write until the previous one completed (measured: ~15 % of the CPU per message).
      'grpc.enable_retries': 0,
      ...this.opts.channelOptions,
    }, handlers, this.nowMs));
  }

  removePeer(id: NodeId): void {
    this.peers.get(id)?.close();
    this.peers.delete(id);
  }

  close(): void {
    for (const p of this.peers.values()) p.close();
    this.peers.clear();
  }

  /** The receiving half, for the owner's grpc.Server: `server.addService(RaftService, t.service())`. */
  service(): RaftServer {
    const { handlers, authorize } = this.opts;
    return {
      stream: (call: grpc.ServerReadableStream<RaftBatch, RaftStreamEnd>, cb: grpc.sendUnaryData<RaftStreamEnd>) => {
        let caller: NodeId | undefined;
        try {
          caller = authorize?.(call as grpc.ServerReadableStream<unknown, unknown>);
        } catch (e) {
          cb(e as grpc.ServiceError);
          return;
        }
        call.on('data', (batch: RaftBatch) => {
          for (const w of batch.messages) {
            if (caller !== undefined && w.from !== caller) continue;
            let m: Message;
            try {
              m = fromWire(w);
            } catch {
              continue; // a message we cannot read is dropped like a lost packet
            }
            handlers.onMessage(m);
          }
        });
        call.on('end', () => cb(null, {}));
        call.on('error', () => {});
      },
      installSnapshot: (call: grpc.ServerReadableStream<SnapshotChunk, SnapshotAck>, cb: grpc.sendUnaryData<SnapshotAck>) => {
        let caller: NodeId | undefined;
        try {
          caller = authorize?.(call as grpc.ServerReadableStream<unknown, unknown>);
        } catch (e) {
          cb(e as grpc.ServiceError);
          return;
        }
        const receiver = new SnapshotReceiver();
        call.on('data', (chunk: SnapshotChunk) => receiver.add(chunk));
        call.on('end', () => {
          const result = receiver.finish(caller);
          if (typeof result === 'string') {
            cb(null, { accepted: false, error: result });
            return;
          }
          handlers.onMessage(result);
          cb(null, { accepted: true, error: '' });
        });
        call.on('error', () => {});
      },
    };
  }
}

/** Reassembles one snapshot from its chunks; reports what was wrong instead of throwing. */
class SnapshotReceiver {
  private header: SnapshotChunk['message'];
  private total = 0;
  private parts: Uint8Array[] = [];
  private received = 0;
  private sawLast = false;
  private problem = '';

  add(c: SnapshotChunk): void {
    if (this.problem) return;
    if (!this.header) {
      if (!c.message) {
        this.problem = 'first snapshot chunk carries no message';
        return;
      }
      this.header = c.message;
      this.total = c.totalBytes;
      if (this.total > MAX_SNAPSHOT_BYTES) this.problem = `snapshot of ${this.total} bytes exceeds the limit`;
    }
    this.parts.push(c.data);
    this.received += c.data.length;
    if (this.received > this.total) this.problem = 'snapshot chunks exceed the announced size';
    if (c.last) this.sawLast = true;
  }

  finish(caller: NodeId | undefined): Message | string {
    if (this.problem) return this.problem;
    if (!this.header || !this.sawLast || this.received !== this.total) return 'snapshot stream ended early';
    if (caller !== undefined && this.header.from !== caller) return 'snapshot sender does not match its certificate';
    const data = Buffer.concat(this.parts, this.total);
    try {
      return fromWire(this.header, new Uint8Array(data.buffer, data.byteOffset, data.length));
    } catch (e) {
      return (e as Error).message;
    }
  }
}
