import * as grpc from '@grpc/grpc-js';
import { GRPC_COMMON_OPTIONS, RaftBatch, SnapshotAck, SnapshotChunk } from '@tswarm/api';
import type { Message, NodeId } from '../core/types.js';
import { fromWire } from './codec.js';
import { AcceptedPipe, DialedPipe, PeerLink } from './peer-link.js';
import { PIPE_SENDER_HEADER } from './pipe.js';
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
  /**
   * The node ID the certificate of a peer we dialed proves (mTLS), or undefined. Messages
   * that peer sends back on the Pipe whose `from` differs from it are dropped.
   */
  identifyServer?: (call: DialedPipe) => NodeId | undefined;
  nowMs?: () => number;
}

/** A snapshot larger than this is refused: it would not fit the receiver's memory sensibly. */
export const MAX_SNAPSHOT_BYTES = 2 ** 31;

/**
 * Raft messages over gRPC on the cluster port: one PeerLink per peer (the Pipes both ways
 * and snapshots) and the receiving half (`service()`, registered by the owner on its
 * server with RAFT_SERVICE).
 */
export class GrpcTransport implements Transport {
  private readonly peers = new Map<NodeId, PeerLink>();
  /** Pipes dialed to us by members not (yet) added as peers; handed over on addPeer. */
  private readonly unclaimed = new Map<NodeId, AcceptedPipe>();
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
    const link = new PeerLink(id, address, {
      self: this.opts.id,
      credentials: this.opts.credentials,
      channelOptions: {
        ...GRPC_COMMON_OPTIONS,
        'grpc.max_receive_message_length': 64 << 20,
        'grpc.max_send_message_length': 64 << 20,
        // No gRPC-level retries: Raft retransmits lost messages itself, and grpc-js's retry
        // layer would keep every message of the long-lived stream in a replay buffer and hold
        // each write until the previous one completed (measured: ~15 % of the CPU per message).
        'grpc.enable_retries': 0,
        ...this.opts.channelOptions,
      },
      events: {
        onBatch: (bytes, proven) => this.receive(bytes, proven),
        onUnreachable: (peer) => handlers.onUnreachable(peer),
        onSnapshotStatus: (peer, ok) => handlers.onSnapshotStatus(peer, ok),
      },
      nowMs: this.nowMs,
      identifyServer: this.opts.identifyServer,
    });
    this.peers.set(id, link);
    const pipe = this.unclaimed.get(id);
    if (pipe) {
      this.unclaimed.delete(id);
      link.accept(pipe);
    }
  }

  removePeer(id: NodeId): void {
    this.peers.get(id)?.close();
    this.peers.delete(id);
  }

  close(): void {
    for (const p of this.peers.values()) p.close();
    this.peers.clear();
    for (const pipe of this.unclaimed.values()) pipe.end();
    this.unclaimed.clear();
  }

  /** The receiving half, for the owner's grpc.Server: `server.addService(RAFT_SERVICE, t.service())`. */
  service(): grpc.UntypedServiceImplementation {
    const { handlers, authorize } = this.opts;
    const identify = (call: unknown, refuse: (e: grpc.ServiceError) => void): { ok: boolean; caller?: NodeId } => {
      try {
        return { ok: true, caller: authorize?.(call as grpc.ServerReadableStream<unknown, unknown>) };
      } catch (e) {
        refuse(e as grpc.ServiceError);
        return { ok: false };
      }
    };
    return {
      pipe: (call: AcceptedPipe) => {
        const { ok, caller } = identify(call, (e) => call.emit('error', e));
        if (!ok) return;
        const claimed = call.metadata.get(PIPE_SENDER_HEADER)[0];
        const member = caller ?? (typeof claimed === 'string' && claimed !== '' ? claimed : undefined);
        if (caller !== undefined && claimed !== undefined && claimed !== caller) {
          call.emit('error', { code: grpc.status.PERMISSION_DENIED, details: `raft pipe: member ${String(claimed)} does not match the certificate of ${caller}` });
          return;
        }
        call.on('data', (bytes: Buffer) => this.receive(bytes, caller));
        call.on('end', () => call.end());
        call.on('error', () => {});
        if (member === undefined || member === this.opts.id) return;
        const link = this.peers.get(member);
        if (link) {
          link.accept(call);
          return;
        }
        this.unclaimed.get(member)?.end();
        this.unclaimed.set(member, call);
        const forget = () => {
          if (this.unclaimed.get(member) === call) this.unclaimed.delete(member);
        };
        call.on('cancelled', forget);
        call.on('close', forget);
      },
      installSnapshot: (call: grpc.ServerReadableStream<SnapshotChunk, SnapshotAck>, cb: grpc.sendUnaryData<SnapshotAck>) => {
        const { ok, caller } = identify(call, (e) => cb(e));
        if (!ok) return;
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

  private receive(bytes: Buffer, provenSender: NodeId | undefined): void {
    let batch: RaftBatch;
    try {
      batch = RaftBatch.decode(bytes);
    } catch {
      return; // a batch we cannot read is dropped like lost packets
    }
    for (const w of batch.messages) {
      if (provenSender !== undefined && w.from !== provenSender) continue;
      let m: Message;
      try {
        m = fromWire(w);
      } catch {
        continue; // a message we cannot read is dropped like a lost packet
      }
      this.opts.handlers.onMessage(m);
    }
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
