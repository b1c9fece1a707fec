// MemoryRaftStorage: RaftStorage in memory, for unit tests and the
// deterministic simulator. It writes the same records as the disk storage
// (codec.ts) into simulated segments and recovers with the same code, so a
// simulated crash exercises the real torn-tail and replay logic.
//
// Model: a MemoryDisk is the durable medium and outlives "processes";
// MemoryDisk.open() is a process start that recovers from it. Bytes written
// with mustSync=false wait in an unsynced buffer; a sync (mustSync, a
// snapshot, a segment cut, close) moves them to durable. crash() drops the
// unsynced buffer (or keeps a prefix of it: a torn write) and kills the open
// handle. Every call completes synchronously — the promise returned is
// already settled — so a simulator may call without awaiting and stay
// deterministic; failures still arrive as rejected promises.
//
//   const disk = new MemoryDisk();
//   let { storage, state } = disk.open();      // state: empty
//   storage.save(hs, entries, rd.mustSync);
//   disk.crash({ tornWrite: true });           // storage is now dead
//   ({ storage, state } = disk.open());        // what a restart sees

import type { Entry, HardState, Snapshot } from '../core/types.js';
import { FRAME_HEADER_BYTES, type SnapshotRef, encodeBatch, encodeMarker, encodeSegmentStart } from './codec.js';
import {
  type RaftStorage,
  type RecoveredState,
  type SnapshotOptions,
  SNAPSHOTS_KEPT,
  StorageClosedError,
  type StorageStats,
  StorageWriteError,
} from './raft-storage.js';
import { type SnapshotSource, recoverState, replaySegments } from './recovery.js';
import { LogReplay } from './replay.js';
import { decodeSnapshot, encodeSnapshot, snapFileName, type SnapshotFileBuffer } from './snap-file.js';
import { checkEntries, lastIndexOf } from './validate.js';
import { segmentName } from './wal-read.js';

/** Segment size for the memory disk: small, so simulations exercise cuts and release. */
export const MEMORY_SEGMENT_BYTES = 256 * 1024;

export interface MemoryDiskOptions {
  segmentBytes?: number;
}

export interface CrashOptions {
  /**
   * How many bytes of the unsynced tail survive (default 0: all of it is
   * lost). Any value may end mid-record — a torn write that recovery must
   * cut off. A seeded simulator can pick it in [0, unsyncedBytes()].
   */
  keepUnsyncedBytes?: number;
  /** Shorthand: every unsynced record survives except the last, of which the first half does. */
  tornWrite?: boolean;
}

interface MemSegment {
  seq: number;
  firstIndex: number;
  name: string;
  /** Durable bytes; the tail's unsynced bytes live in MemoryDisk.unsynced. */
  chunks: Buffer[];
  bytes: number;
  /** Bytes of the start records; a segment holding only those is never cut. */
  startBytes: number;
}

export class MemoryDisk {
  private readonly segmentBytes: number;
  private segments: MemSegment[] = [];
  private unsynced: Buffer[] = [];
  private unsyncedLength = 0;
  /** Encoded snapshot "files" by name, durable as soon as saved. */
  private readonly snapshots = new Map<string, Buffer>();
  private handle: MemoryRaftStorage | undefined;
  private failure: string | undefined;
  // What the log looks like, for segment start records (as SegmentedWal).
  private lastIndex = 0;
  private hardState: HardState | undefined;
  private marker: SnapshotRef | undefined;
  /** Invariant: the index of the newest durable snapshot (0 if none). */
  private newestSnapshotIndex = 0;
  private readonly counters = { syncs: 0, writes: 0, bytes: 0, segmentsCut: 0 };

  constructor(options: MemoryDiskOptions = {}) {
    this.segmentBytes = options.segmentBytes ?? MEMORY_SEGMENT_BYTES;
  }

  /** Starts a "process" on this disk: recovers and returns a live handle. Throws like openDiskStorage. */
  open(): { storage: MemoryRaftStorage; state: RecoveredState } {
    if (this.handle?.alive) throw new Error('memory disk: already open; close() or crash() first');
    // A handle that died without crash() is a process exit, not a power
    // loss: the OS still writes out what the process had written.
    for (const b of this.unsynced) this.appendDurable(b);
    this.unsynced = [];
    this.unsyncedLength = 0;
    const warnings: string[] = [];
    const read =
      this.segments.length > 0
        ? replaySegments(
            this.segments.map((s) => ({ label: s.name, seq: s.seq, firstIndex: s.firstIndex, buf: Buffer.concat(s.chunks) })),
          )
        : undefined;
    const replay = read?.replay ?? new LogReplay();
    const { state, unrecorded } = recoverState(replay, this.snapshotSource(), warnings, 'memory disk');
    for (const ref of unrecorded) this.snapshots.delete(snapFileName(ref));
    const tail = this.segments[this.segments.length - 1];
    if (read && tail.bytes !== read.tailEnd) {
      // Appends continue at the end of the last good record: drop a torn
      // record, or the few zero bytes a tear can leave that read as the end.
      tail.chunks = [Buffer.concat(tail.chunks).subarray(0, read.tailEnd)];
      tail.bytes = read.tailEnd;
    }
    if (read?.torn !== undefined) {
      warnings.push(`wal: cut off a torn record at ${tail.name} offset ${read.tailEnd} (${read.torn})`);
    }
    this.lastIndex = replay.lastIndex();
    const hs = replay.hardState;
    this.hardState = hs.term !== 0 || hs.vote !== '' || hs.commit !== 0 ? hs : undefined;
    this.marker = replay.latestMarker();
    this.newestSnapshotIndex = state.snapshot?.metadata.index ?? 0;
    if (this.segments.length === 0) this.startSegment(1, 1);
    const ops: MemoryDiskOps = {
      write: (buf, sync, meta) => this.write(buf, sync, meta),
      saveSnapshot: (snapshot, file) => this.saveSnapshot(snapshot, file),
      releaseTo: (index) => this.releaseTo(index),
      close: () => this.close(),
      stats: () => this.stats(),
    };
    this.handle = new MemoryRaftStorage(ops, lastIndexOf(state));
    return { storage: this.handle, state };
  }

  /** The machine loses power: unsynced bytes are lost (or partly kept), the open handle dies. */
  crash(options: CrashOptions = {}): void {
    const pending = Buffer.concat(this.unsynced);
    let keep = options.keepUnsyncedBytes ?? 0;
    if (options.tornWrite && pending.length > 0) {
      const last = lastRecordStart(pending);
      keep = last + Math.floor((pending.length - last) / 2);
    }
    keep = Math.max(0, Math.min(keep, pending.length));
    if (keep > 0) this.appendDurable(pending.subarray(0, keep));
    this.unsynced = [];
    this.unsyncedLength = 0;
    if (this.handle) this.handle.alive = false;
    this.handle = undefined;
  }

  unsyncedBytes(): number {
    return this.unsyncedLength;
  }

  /** The next log write or sync fails with StorageWriteError (an I/O error), and the handle is dead. */
  failNextWrite(reason = 'EIO'): void {
    this.failure = reason;
  }

  segmentNames(): string[] {
    return this.segments.map((s) => s.name);
  }

  snapshotNames(): string[] {
    return [...this.snapshots.keys()].sort();
  }

  /** Flips a byte of the snapshot at index, as bit rot would (tests of the fallback). */
  damageSnapshot(index: number): void {
    for (const [name, buf] of this.snapshots) {
      if (this.refOf(name).index === index) buf[buf.length - 1] ^= 0xff;
    }
  }

  private write(buf: Buffer, sync: boolean, meta: { lastIndex?: number; hardState?: HardState; marker?: SnapshotRef }): void {
    if (this.failure !== undefined) {
      const reason = this.failure;
      this.failure = undefined;
      throw new StorageWriteError(`wal: writing ${this.tail().name} failed (${reason}); stop this node`);
    }
    const tail = this.tail();
    if (buf.length > 0 && tail.bytes + this.unsyncedLength + buf.length > this.segmentBytes && tail.bytes + this.unsyncedLength > tail.startBytes) {
      this.sync();
      this.startSegment(tail.seq + 1, this.lastIndex + 1);
      this.counters.segmentsCut++;
    }
    if (buf.length > 0) {
      this.unsynced.push(buf);
      this.unsyncedLength += buf.length;
      this.counters.writes++;
      this.counters.bytes += buf.length;
    }
    if (sync) this.sync();
    if (meta.lastIndex !== undefined) this.lastIndex = meta.lastIndex;
    if (meta.hardState) this.hardState = meta.hardState;
    if (meta.marker) {
      this.marker = meta.marker;
      if (meta.marker.index > this.lastIndex) this.lastIndex = meta.marker.index;
    }
  }

  private saveSnapshot(snapshot: Snapshot, file?: SnapshotFileBuffer): void {
    const ref = { index: snapshot.metadata.index, term: snapshot.metadata.term };
    this.snapshots.set(snapFileName(ref), file ? file.seal(snapshot) : encodeSnapshot(snapshot));
    this.write(encodeMarker(ref), true, { marker: ref });
    this.newestSnapshotIndex = Math.max(this.newestSnapshotIndex, ref.index);
  }

  private releaseTo(index: number): void {
    if (index > this.newestSnapshotIndex) {
      throw new RangeError(
        `raft storage: cannot release the log to ${index}: the newest saved snapshot is at ${this.newestSnapshotIndex}; ` +
          'save a snapshot covering it first',
      );
    }
    while (this.segments.length > 1 && this.segments[1].firstIndex - 1 <= index) this.segments.shift();
    const names = [...this.snapshots.keys()].sort((a, b) => this.refOf(b).index - this.refOf(a).index);
    for (const name of names.slice(SNAPSHOTS_KEPT)) this.snapshots.delete(name);
  }

  private close(): void {
    this.sync();
    if (this.handle) this.handle.alive = false;
    this.handle = undefined;
  }

  private stats(): Omit<StorageStats, 'saves'> {
    return { ...this.counters };
  }

  private sync(): void {
    if (this.unsyncedLength > 0) {
      for (const b of this.unsynced) this.appendDurable(b);
      this.unsynced = [];
      this.unsyncedLength = 0;
    }
    this.counters.syncs++;
  }

  private appendDurable(buf: Buffer): void {
    const tail = this.tail();
    tail.chunks.push(buf);
    tail.bytes += buf.length;
  }

  private startSegment(seq: number, firstIndex: number): void {
    const start = encodeSegmentStart({ seq, firstIndex }, this.hardState, this.marker);
    this.segments.push({ seq, firstIndex, name: segmentName(seq, firstIndex), chunks: [start], bytes: start.length, startBytes: start.length });
  }

  private tail(): MemSegment {
    return this.segments[this.segments.length - 1];
  }

  private refOf(name: string): SnapshotRef {
    const [term, index] = name.replace('.snap', '').split('-').map((h) => parseInt(h, 16));
    return { term, index };
  }

  private snapshotSource(): SnapshotSource {
    const refs = [...this.snapshots.keys()].map((n) => this.refOf(n)).sort((a, b) => b.index - a.index || b.term - a.term);
    return {
      list: () => refs,
      load: (ref) => decodeSnapshot(Buffer.from(this.snapshots.get(snapFileName(ref))!)),
      describe: (ref) => snapFileName(ref),
    };
  }
}

/** What a handle may do to its disk (the disk keeps these methods private). */
export interface MemoryDiskOps {
  write(buf: Buffer, sync: boolean, meta: { lastIndex?: number; hardState?: HardState; marker?: SnapshotRef }): void;
  saveSnapshot(snapshot: Snapshot, file?: SnapshotFileBuffer): void;
  releaseTo(index: number): void;
  close(): void;
  stats(): Omit<StorageStats, 'saves'>;
}

/** A handle on a MemoryDisk (get one from MemoryDisk.open()), valid until close() or the disk's crash(). */
export class MemoryRaftStorage implements RaftStorage {
  /** False once closed, crashed, or failed; the disk then allows the next open(). */
  alive = true;
  private saves = 0;

  constructor(
    private readonly disk: MemoryDiskOps,
    /** The log's last index as of the calls made so far. */
    private lastIndex: number,
  ) {}

  save(hardState: HardState | undefined, entries: readonly Entry[], mustSync: boolean): Promise<void> {
    return this.run(() => {
      if (!hardState && entries.length === 0 && !mustSync) return;
      checkEntries(entries, this.lastIndex);
      this.saves++;
      const lastIndex = entries.length > 0 ? entries[entries.length - 1].index : undefined;
      if (lastIndex !== undefined) this.lastIndex = lastIndex;
      this.disk.write(encodeBatch(hardState, entries), mustSync, { lastIndex, hardState: hardState && { ...hardState } });
    });
  }

  saveSnapshot(snapshot: Snapshot, opts: SnapshotOptions = {}): Promise<void> {
    return this.run(() => {
      this.disk.saveSnapshot(snapshot, opts.file);
      this.lastIndex = Math.max(this.lastIndex, snapshot.metadata.index);
    });
  }

  releaseTo(index: number): Promise<void> {
    return this.run(() => this.disk.releaseTo(index));
  }

  close(): Promise<void> {
    if (!this.alive) return Promise.resolve();
    return this.run(() => this.disk.close());
  }

  stats(): StorageStats {
    return { saves: this.saves, ...this.disk.stats() };
  }

  private run(fn: () => void): Promise<void> {
    if (!this.alive) return Promise.reject(new StorageClosedError('memory raft storage'));
    try {
      fn();
      return Promise.resolve();
    } catch (err) {
      if (err instanceof StorageWriteError) this.alive = false;
      return Promise.reject(err);
    }
  }
}

/** Offset of the last whole-or-partial record frame in buf (which starts at a record). */
function lastRecordStart(buf: Buffer): number {
  let off = 0;
  for (;;) {
    const next = off + FRAME_HEADER_BYTES + buf.readUInt32LE(off);
    if (next >= buf.length) return off;
    off = next;
  }
}
