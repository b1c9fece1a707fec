import * as grpc from '@grpc/grpc-js';
import { RaftBatch, RaftClient, RaftService } from '@tswarm/api';
import type { Message, NodeId } from '../core/types.js';
import { toWire } from './codec.js';

/**
 * Messages waiting for one peer beyond this are dropped: a peer that cannot keep up is
 * slow or gone, and Raft's own retransmission (probe state) is the right recovery.
 */
export const MAX_QUEUED_MESSAGES = 8192;

/** Snapshot data goes in slices of this size; well under gRPC's 4 MiB message limit. */
export const SNAPSHOT_CHUNK_BYTES = 1 << 20;

/** A broken stream is not reopened sooner than this, so a dead peer costs one dial per period. */
export const REDIAL_BACKOFF_MS = 200;

export interface PeerSenderEvents {
  onUnreachable(peer: NodeId): void;
  onSnapshotStatus(peer: NodeId, ok: boolean): void;
}

/**
 * Owns the connection to one peer: a long-lived client stream carrying batches of
 * messages. Everything queued in one synchronous run goes out as one RaftBatch,
 * which is what lets Raft's pipelining turn into few, large writes.
 */
export class PeerSender {
  private readonly client: RaftClient;
  private stream: grpc.ClientWritableStream<Buffer> | undefined;
  private queue: Message[] = [];
  private flushScheduled = false;
  private blockedUntilDrain = false;
  private brokenAtMs = -Infinity;
  private closed = false;

  constructor(
    readonly peer: NodeId,
    readonly address: string,
    credentials: grpc.ChannelCredentials,
    options: grpc.ChannelOptions,
    private readonly events: PeerSenderEvents,
    private readonly nowMs: () => number,
  ) {
    this.client = new RaftClient(address, credentials, options);
  }

  send(m: Message): void {
    if (this.closed) return;
    if (m.type === 'snap') {
      this.sendSnapshot(m);
      return;
    }
    if (this.queue.length >= MAX_QUEUED_MESSAGES) {
      this.events.onUnreachable(this.peer);
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

  private flush(): void {
    this.flushScheduled = false;
    if (this.closed || this.blockedUntilDrain || this.queue.length === 0) return;
    const stream = this.openStream();
    if (!stream) {
      // Still backing off after a failure: drop, Raft resends when the peer answers again.
      this.queue = [];
      this.events.onUnreachable(this.peer);
      return;
    }
    const batch: RaftBatch = { messages: this.queue.map(toWire) };
    this.queue = [];
    if (!stream.write(encodeBatch(batch))) {
      this.blockedUntilDrain = true;
      stream.once('drain', () => {
        this.blockedUntilDrain = false;
        this.flush();
      });
    }
  }

  private openStream(): grpc.ClientWritableStream<Buffer> | undefined {
    if (this.stream) return this.stream;
    if (this.nowMs() - this.brokenAtMs < REDIAL_BACKOFF_MS) return undefined;
    // The generated stub would serialize with Buffer.from(encode(batch)), a second copy of
    // every batch; the call takes the encoded bytes as they are instead (see encodeBatch).
    const { path, responseDeserialize } = RaftService.stream;
    const stream = this.client.makeClientStreamRequest(path, passthrough, responseDeserialize, (err) => {
      if (this.stream === stream) this.stream = undefined;
      this.blockedUntilDrain = false;
      if (err && !this.closed) {
        this.brokenAtMs = this.nowMs();
        this.events.onUnreachable(this.peer);
      }
    });
    stream.on('error', () => {
      // Reported through the call's callback above; this handler keeps it from being unhandled.
    });
    this.stream = stream;
    return stream;
  }

  private sendSnapshot(m: Message): void {
    const data = m.snapshot?.data ?? new Uint8Array(0);
    const call = this.client.installSnapshot((err, ack) => {
      if (this.closed) return;
      this.events.onSnapshotStatus(this.peer, !err && Boolean(ack?.accepted));
      if (err) this.events.onUnreachable(this.peer);
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
    this.stream?.end();
    this.stream = undefined;
    this.client.close();
  }
}

/** The wire bytes of a batch: the generated protobuf encoder's output, viewed as a Buffer without a copy. */
function encodeBatch(batch: RaftBatch): Buffer {
  const bytes = RaftBatch.encode(batch).finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const passthrough = (b: Buffer): Buffer => b;
