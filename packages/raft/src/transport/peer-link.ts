import * as grpc from '@grpc/grpc-js';
import { encodeMessage, RaftBatch, RaftClient } from '@tswarm/api';
import type { Message, NodeId } from '../core/types.js';
import { toWire } from './codec.js';
import { passthrough, PIPE_METHOD, PIPE_SENDER_HEADER } from './pipe.js';

/**
 * Messages waiting for one peer beyond this are dropped: a peer that cannot keep up is
 * slow or gone, and Raft's own retransmission (probe state) is the right recovery.
 */
export const MAX_QUEUED_MESSAGES = 8192;

/** Snapshot data goes in slices of this size; well under gRPC's 4 MiB message limit. */
export const SNAPSHOT_CHUNK_BYTES = 1 << 20;

/** A broken Pipe is not redialled sooner than this, so a dead peer costs one dial per period. */
export const REDIAL_BACKOFF_MS = 200;

/** Both directions of a Pipe carry encoded RaftBatch bytes, handed over as they are. */
export type DialedPipe = grpc.ClientDuplexStream<Buffer, Buffer>;
export type AcceptedPipe = grpc.ServerDuplexStream<Buffer, Buffer>;

export interface PeerLinkEvents {
  /** A batch the peer wrote on the Pipe we dialed; `provenSender` is the server certificate's node ID. */
  onBatch(bytes: Buffer, provenSender: NodeId | undefined): void;
  onUnreachable(peer: NodeId): void;
  onSnapshotStatus(peer: NodeId, ok: boolean): void;
}

export interface PeerLinkOptions {
  self: NodeId;
  credentials: grpc.ChannelCredentials;
  channelOptions: grpc.ChannelOptions;
  events: PeerLinkEvents;
  nowMs: () => number;
  /** The node ID a dialed server's certificate proves (mTLS), or undefined. */
  identifyServer?: (call: DialedPipe) => NodeId | undefined;
}

/**
 * Everything between this member and one peer. It keeps a Pipe dialed to the peer (the peer
 * sends to us on it) and holds the Pipe the peer dialed to us (we send on it). Messages queued
 * in one synchronous run go out as one RaftBatch, which is what lets Raft's pipelining turn
 * into few, large writes. Until the peer's Pipe arrives, or while it is gone, batches go on
 * our own Pipe; a switch between the two can reorder the few messages in flight, which Raft
 * tolerates (a stale append or answer is recognised by its index and term).
 */
export class PeerLink {
  private readonly client: RaftClient;
  private dialed: DialedPipe | undefined;
  private accepted: AcceptedPipe | undefined;
  private queue: Message[] = [];
  private flushScheduled = false;
  /** The Pipe whose buffer is full: nothing more is written until it drains or closes. */
  private blockedOn: DialedPipe | AcceptedPipe | undefined;
  private brokenAtMs = -Infinity;
  /** The Pipes we have written on, so only their loss reports the peer unreachable. */
  private readonly written = new Set<DialedPipe | AcceptedPipe>();
  private redialTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    readonly peer: NodeId,
    readonly address: string,
    private readonly o: PeerLinkOptions,
  ) {
    this.client = new RaftClient(address, o.credentials, o.channelOptions);
    this.dial();
  }

  send(m: Message): void {
    if (this.closed) return;
    if (m.type === 'snap') {
      this.sendSnapshot(m);
      return;
    }
    if (this.queue.length >= MAX_QUEUED_MESSAGES) {
      this.o.events.onUnreachable(this.peer);
      return;
    }
    this.queue.push(m);
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // A microtask, not the next loop turn: the node loop hands over a whole Ready's
      // messages in one synchronous call, so they are all queued by then; waiting a turn
      // would only add latency to every hop.
      queueMicrotask(() => this.flush());
    }
  }

  /** The peer opened a Pipe to us: from now on we send on it. */
  accept(call: AcceptedPipe): void {
    if (this.closed) {
      call.end();
      return;
    }
    const previous = this.accepted;
    this.accepted = call;
    previous?.end();
    // Also for a replaced Pipe: what we wrote on it may be lost, and a write may wait on it.
    const gone = () => {
      if (this.accepted === call) this.accepted = undefined;
      this.pathLost(call);
    };
    call.on('cancelled', gone);
    call.on('error', gone);
    call.on('close', gone);
  }

  private flush(): void {
    this.flushScheduled = false;
    if (this.closed || this.blockedOn || this.queue.length === 0) return;
    const out: AcceptedPipe | DialedPipe | undefined = this.accepted ?? this.dial();
    if (!out) {
      // Still backing off after a failure: drop, Raft resends when the peer answers again.
      this.queue = [];
      this.o.events.onUnreachable(this.peer);
      return;
    }
    const batch: RaftBatch = { messages: this.queue.map(toWire) };
    this.queue = [];
    this.written.add(out);
    if (!out.write(encodeBatch(batch))) {
      this.blockedOn = out;
      out.once('drain', () => {
        if (this.blockedOn !== out) return;
        this.blockedOn = undefined;
        this.flush();
      });
    }
  }

  /** Our Pipe to the peer, dialing it if there is none and the backoff allows. */
  private dial(): DialedPipe | undefined {
    if (this.dialed || this.closed) return this.dialed;
    if (this.o.nowMs() - this.brokenAtMs < REDIAL_BACKOFF_MS) return undefined;
    const md = new grpc.Metadata();
    md.set(PIPE_SENDER_HEADER, this.o.self);
    const call: DialedPipe = this.client.makeBidiStreamRequest(PIPE_METHOD, passthrough, passthrough, md);
    let proven: NodeId | undefined;
    let identified = false;
    call.on('data', (bytes: Buffer) => {
      if (!identified) {
        identified = true;
        proven = this.o.identifyServer?.(call);
      }
      this.o.events.onBatch(bytes, proven);
    });
    const broken = () => {
      if (this.dialed !== call) return;
      this.dialed = undefined;
      this.brokenAtMs = this.o.nowMs();
      if (this.closed) return;
      this.pathLost(call);
      // The peer sends to us only on this Pipe: redial on our own, not only when we send.
      this.redialTimer ??= setTimeout(() => {
        this.redialTimer = undefined;
        this.dial();
      }, REDIAL_BACKOFF_MS).unref();
    };
    call.on('error', broken);
    call.on('end', broken);
    this.dialed = call;
    return call;
  }

  /**
   * A Pipe closed. If we wrote on it, what we wrote may be lost: the peer is reported
   * unreachable so the leader probes it. A write waiting for its drain never resumes.
   */
  private pathLost(pipe: DialedPipe | AcceptedPipe): void {
    if (this.closed) return;
    if (this.written.delete(pipe)) this.o.events.onUnreachable(this.peer);
    if (this.blockedOn === pipe) {
      this.blockedOn = undefined;
      if (this.queue.length > 0) this.flush();
    }
  }

  private sendSnapshot(m: Message): void {
    const data = m.snapshot?.data ?? new Uint8Array(0);
    const call = this.client.installSnapshot((err, ack) => {
      if (this.closed) return;
      this.o.events.onSnapshotStatus(this.peer, !err && Boolean(ack?.accepted));
      if (err) this.o.events.onUnreachable(this.peer);
    });
    call.on('error', () => {});
    const header = toWire(m);
    let offset = 0;
    do {
      const slice = data.subarray(offset, offset + SNAPSHOT_CHUNK_BYTES);
      const first = offset === 0;
      offset += slice.length;
      call.write({ message: first ? header : undefined, totalBytes: data.length, data: slice, last: offset >= data.length });
    } while (offset < data.length);
    call.end();
  }

  close(): void {
    this.closed = true;
    this.queue = [];
    if (this.redialTimer) clearTimeout(this.redialTimer);
    this.dialed?.end();
    this.dialed = undefined;
    this.accepted?.end();
    this.accepted = undefined;
    this.client.close();
  }
}

/** The wire bytes of a batch: the generated protobuf encoder's output, viewed as a Buffer without a copy. */
function encodeBatch(batch: RaftBatch): Buffer {
  const bytes = encodeMessage(RaftBatch, batch);
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
