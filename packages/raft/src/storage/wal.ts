// The write-ahead log on disk: numbered segment files under <dir>/wal/ (named
// and read back by wal-read.ts),
//
//   <seq>-<firstIndex>.wal   both as 16 hex digits, seq from 1,
//
// where firstIndex is one past the last log index when the segment was cut:
// every live entry in earlier segments is below it, which is what
// release() relies on. Each segment opens with a header record, then the
// current hardState and newest snapshot marker (see codec.ts), so dropping
// older segments never loses them.
//
// Segments are written with zeros and synced before records go in (see
// SEGMENT_BYTES for why). The first one of a fresh log is zero-filled on the
// calling thread when the log is created; every later one is prepared beside
// the loop (segment-file.ts) as soon as the tail before it is open, so a cut
// finds it ready. Recovery needs nothing new: after its last record a segment
// reads as zeros, whether zero-filled or left sparse by an older version
// (which stays so until it is cut).
//
// Not a queue: the caller (DiskRaftStorage) runs one operation at a time,
// after readWal() and recovery succeeded (SegmentedWal.resume). The
// preparation runs beside those operations but touches only its own file.

import * as path from 'node:path';
import type { HardState } from '../core/types.js';
import { type SnapshotRef, encodeSegmentStart } from './codec.js';
import { type FsLike, errorCode, fdatasyncAsync, fsyncAsync, fsyncDir, writevAll, writevAllSync } from './fs-shim.js';
import { StorageWriteError } from './raft-storage.js';
import type { ReplayResult } from './recovery.js';
import { SegmentPreparation, createZeroFilledSync, installSegmentFile, preparedName, zeroFillSync } from './segment-file.js';
import { type Segment, type WalContents, segmentName } from './wal-read.js';

/**
 * Segment size bound, as etcd's. Large enough that cuts (trim, fsync, start
 * records, rename, directory fsync: a few ms) come once per ~250k small
 * entries; small enough that release frees space in useful steps and recovery
 * reads bounded files.
 *
 * Each segment is this size from its creation, its blocks written with zeros
 * and synced, so an append changes neither the file's size nor its block map
 * and a sync has no metadata to write. Measured on ext4 on virtio
 * (2026-11-27), O_DSYNC writes at increasing offsets into a 64-MiB file, p50:
 * 4-KiB writes 97 µs into a sparse (ftruncated) file against 60-71 µs into a
 * zero-filled one; 30-KB writes 127-143 µs against 68-84 µs (p99 282 against
 * 162 µs), and 50 against 28 µs of process CPU each; 520-byte writes 57
 * against 52 µs. posix_fallocate is no better than sparse (113 and 157 µs):
 * its unwritten extents are converted through ext4's journal on first write,
 * as holes are allocated. Zero-filling 64 MiB (1-MiB writes, fsync) takes
 * ≈ 80 ms: done once on the calling thread for a fresh log's first segment,
 * beside the loop for every later one.
 */
export const SEGMENT_BYTES = 64 * 1024 * 1024;

/**
 * 'dsync': a batch that must be durable is written through a second file
 * descriptor opened O_DSYNC — write and sync in one thread-pool round trip
 * (measured ~35% more syncs/s than write + fdatasync). Used only when no
 * unsynced bytes precede it in the segment, since O_DSYNC covers only the
 * bytes of that write; otherwise, and always with 'fdatasync', the batch is
 * written then fdatasync()ed.
 */
export type SyncMethod = 'dsync' | 'fdatasync';

export interface WalOptions {
  segmentBytes?: number;
  syncMethod?: SyncMethod;
}

interface Tail {
  seg: Segment;
  fd: number;
  /** The same file opened O_DSYNC, or -1. */
  syncFd: number;
  /** Where the next record goes. */
  offset: number;
  /** Offset after the start records; a tail holding only those is never cut. */
  startEnd: number;
  /** Bytes were written since the last sync. */
  dirty: boolean;
}

/** What the log looks like to a segment header: updated after each append. */
export interface WrittenMeta {
  lastIndex?: number;
  hardState?: HardState;
  marker?: SnapshotRef;
}

export class SegmentedWal {
  /** Oldest first; the last one is the tail. */
  private readonly segments: Segment[];
  private tail: Tail;
  private lastIndex: number;
  private hardState: HardState | undefined;
  private marker: SnapshotRef | undefined;
  private readonly segmentBytes: number;
  private readonly useDsync: boolean;
  /** The file of the segment after the tail, being prepared or ready; none once closed. */
  private next: SegmentPreparation | undefined;
  /** Resolves once an abandoned preparation has stopped (see closeFiles). */
  private nextStopped: Promise<void> = Promise.resolve();
  syncs = 0;
  writes = 0;
  cuts = 0;

  private constructor(
    private readonly f: FsLike,
    private readonly dir: string,
    segments: Segment[],
    replay: ReplayResult | undefined,
    opts: WalOptions,
  ) {
    this.segmentBytes = opts.segmentBytes ?? SEGMENT_BYTES;
    this.useDsync = (opts.syncMethod ?? 'dsync') === 'dsync' && typeof f.constants.O_DSYNC === 'number';
    this.segments = segments;
    const r = replay?.replay;
    this.lastIndex = r ? r.lastIndex() : 0;
    const hs = r?.hardState;
    this.hardState = hs && (hs.term !== 0 || hs.vote !== '' || hs.commit !== 0) ? hs : undefined;
    this.marker = r?.latestMarker();
    if (segments.length === 0) {
      try {
        this.tail = this.createFirstSegment();
      } catch (err) {
        // Its .tmp, if left, is removed at the next open.
        throw new StorageWriteError(
          `wal: creating the first segment in ${dir} failed (${errorCode(err)}); the log is empty, nothing is lost — ` +
            `check that the disk has ${this.segmentBytes} bytes free and the directory is writable, then start again`,
          err,
        );
      }
    } else {
      this.tail = this.openTail(segments[segments.length - 1], replay?.tailEnd ?? 0);
    }
  }

  /**
   * Opens the log for appending after readWal() and a successful recovery:
   * cuts off a torn tail (returning why, for the caller's warnings), or
   * creates the first segment of an empty log. Then starts preparing the next.
   */
  static resume(f: FsLike, dir: string, read: WalContents, opts: WalOptions = {}): { wal: SegmentedWal; torn?: string } {
    const wal = new SegmentedWal(f, dir, read.segments, read.replay, opts);
    const torn = read.replay?.torn;
    if (torn !== undefined) {
      try {
        wal.repairTail();
      } catch (err) {
        void wal.closeFiles(); // nothing is being prepared yet
        throw writeError(`truncating the torn tail of ${wal.tailName}`, err);
      }
    }
    wal.prepareNext();
    return { wal, torn };
  }

  get tailName(): string {
    return this.tail.seg.name;
  }

  segmentNames(): string[] {
    return this.segments.map((s) => s.name);
  }

  /** Appends pre-encoded records; if sync, returns once they and all before are durable. */
  async append(bufs: Buffer[], bytes: number, sync: boolean, meta: WrittenMeta): Promise<void> {
    if (bytes === 0) {
      // A bare barrier: nothing to write, make earlier writes durable.
      if (sync && this.tail.dirty) await this.syncTail();
      return;
    }
    if (this.tail.offset + bytes > this.segmentBytes && this.tail.offset > this.tail.startEnd) await this.cut();
    const t = this.tail;
    try {
      this.writes++;
      if (sync && !t.dirty && t.syncFd >= 0) {
        await writevAll(this.f, t.syncFd, bufs, t.offset);
        this.syncs++;
      } else {
        await writevAll(this.f, t.fd, bufs, t.offset);
        if (sync) {
          await fdatasyncAsync(this.f, t.fd);
          this.syncs++;
        }
        t.dirty = !sync;
      }
    } catch (err) {
      throw writeError(`writing ${t.seg.name}`, err);
    }
    t.offset += bytes;
    this.written(meta);
  }

  /**
   * Appends pre-encoded records durably on the calling thread, in one O_DSYNC write, when
   * that is possible: an O_DSYNC descriptor, no unsynced bytes before them, and room in the
   * tail segment. Returns false, having done nothing, otherwise (use append()).
   */
  appendSync(bufs: Buffer[], bytes: number, meta: WrittenMeta): boolean {
    const t = this.tail;
    if (bytes === 0 || t.syncFd < 0 || t.dirty || t.offset + bytes > this.segmentBytes) return false;
    try {
      this.writes++;
      writevAllSync(this.f, t.syncFd, bufs, t.offset);
      this.syncs++;
    } catch (err) {
      throw writeError(`writing ${t.seg.name}`, err);
    }
    t.offset += bytes;
    this.written(meta);
    return true;
  }

  private written(meta: WrittenMeta): void {
    if (meta.lastIndex !== undefined) this.lastIndex = meta.lastIndex;
    if (meta.hardState) this.hardState = meta.hardState;
    if (meta.marker) {
      this.marker = meta.marker;
      // A leader's snapshot past the log moves the log's end to it.
      if (meta.marker.index > this.lastIndex) this.lastIndex = meta.marker.index;
    }
  }

  /** Deletes segments whose live entries are all <= index. Returns their names. */
  release(index: number): string[] {
    const removed: string[] = [];
    try {
      while (this.segments.length > 1 && this.segments[1].firstIndex - 1 <= index) {
        const seg = this.segments[0];
        // Oldest first: a crash midway leaves a contiguous run of segments.
        this.f.unlinkSync(path.join(this.dir, seg.name));
        this.segments.shift();
        removed.push(seg.name);
      }
      if (removed.length > 0) fsyncDir(this.f, this.dir);
    } catch (err) {
      throw writeError('removing old segments', err);
    }
    return removed;
  }

  /** Syncs what is unsynced, closes the files and stops the preparation (see closeFiles). */
  async close(): Promise<void> {
    try {
      if (this.tail.dirty) await this.syncTail();
    } finally {
      await this.closeFiles();
    }
  }

  private async syncTail(): Promise<void> {
    try {
      await fdatasyncAsync(this.f, this.tail.fd);
    } catch (err) {
      throw writeError(`syncing ${this.tail.seg.name}`, err);
    }
    this.syncs++;
    this.tail.dirty = false;
  }

  /**
   * Trims and syncs the tail, then makes the prepared file the next segment and
   * starts preparing the one after it.
   */
  private async cut(): Promise<void> {
    const old = this.tail;
    let tmp: string;
    try {
      tmp = await this.preparedFile();
    } catch (err) {
      // The tail is untouched and durable, but full: the storage fails with this
      // error, which on ENOSPC says to free disk space first.
      throw writeError(`preparing the segment after ${old.seg.name}`, err);
    }
    try {
      // Trimmed to its records and fully durable: only the newest segment
      // may ever hold a torn record (see segment-reader.ts).
      this.f.ftruncateSync(old.fd, old.offset);
      await fsyncAsync(this.f, old.fd);
      this.syncs++;
      this.closeTailFds();
      this.tail = this.installSegment(tmp, old.seg.seq + 1, this.lastIndex + 1);
      this.cuts++;
    } catch (err) {
      throw writeError(`starting the segment after ${old.seg.name}`, err);
    }
    this.prepareNext();
  }

  /** Starts preparing the file of the segment after the tail. */
  private prepareNext(): SegmentPreparation {
    const tmp = path.join(this.dir, preparedName(this.tail.seg.seq + 1));
    this.next = new SegmentPreparation(this.f, tmp, this.segmentBytes);
    return this.next;
  }

  /**
   * Waits for the next segment's file, and returns its path.
   *
   * Disk full: a preparation failing with ENOSPC (or anything else) breaks nothing while
   * the tail has room. The tail was allocated whole when it was created, so appends into
   * it need no new blocks (a sparse tail left by an older version allocates as it fills,
   * as before), and the failed file was removed, giving its space back. The failure counts
   * only here, at the cut, and the preparation is tried once more first, beside the loop
   * as before: space may have been freed since (released segments, old snapshots), and
   * the failed file was never part of the log, so retrying is safe (unlike retrying a
   * failed fsync of the log). If that fails too, cut() fails the storage.
   */
  private async preparedFile(): Promise<string> {
    let prep = this.next ?? this.prepareNext();
    try {
      await prep.ready();
    } catch {
      prep = this.prepareNext();
      await prep.ready();
    }
    this.next = undefined;
    return prep.tmp;
  }

  /** Creates a fresh log's first segment, zero-filled on this thread (≈ 80 ms at 64 MiB, once). */
  private createFirstSegment(): Tail {
    const tmp = path.join(this.dir, preparedName(1));
    createZeroFilledSync(this.f, tmp, this.segmentBytes);
    return this.installSegment(tmp, 1, 1);
  }

  /** Makes the zero-filled file tmp segment seq (see installSegmentFile) and opens it as the tail. */
  private installSegment(tmp: string, seq: number, firstIndex: number): Tail {
    const seg: Segment = { seq, firstIndex, name: segmentName(seq, firstIndex) };
    const start = encodeSegmentStart(seg, this.hardState, this.marker);
    installSegmentFile(this.f, this.dir, tmp, seg.name, start);
    this.segments.push(seg);
    const tail = this.openTail(seg, start.length);
    tail.startEnd = start.length;
    return tail;
  }

  private openTail(seg: Segment, offset: number): Tail {
    const file = path.join(this.dir, seg.name);
    const fd = this.f.openSync(file, 'r+');
    const syncFd = this.useDsync ? this.f.openSync(file, this.f.constants.O_RDWR | this.f.constants.O_DSYNC) : -1;
    return { seg, fd, syncFd, offset, startEnd: 0, dirty: false };
  }

  /**
   * Closes the tail's files without syncing (when giving up, or after close's sync) and
   * abandons the preparation: it stops after its call in flight, closes its file and
   * removes it. Resolves once it has; until then a write of it may still be running.
   * May be called again: later calls wait for the same.
   */
  closeFiles(): Promise<void> {
    this.closeTailFds();
    if (this.next) {
      this.nextStopped = this.next.abandon();
      this.next = undefined;
    }
    return this.nextStopped;
  }

  private closeTailFds(): void {
    const t = this.tail;
    if (t.fd >= 0) this.f.closeSync(t.fd);
    if (t.syncFd >= 0) this.f.closeSync(t.syncFd);
    t.fd = -1;
    t.syncFd = -1;
  }

  /**
   * Cuts a torn tail off the last segment: zeros written over everything after the last
   * good record, to the segment's size, then fsync. Written over in place rather than
   * truncated and re-extended, which would free the blocks and leave a hole: appends until
   * the next cut would pay for its allocation (see SEGMENT_BYTES). This runs only after a
   * crash tore a write, on the calling thread, and costs at most one segment's zero-fill
   * (≈ 80 ms at 64 MiB).
   */
  private repairTail(): void {
    const t = this.tail;
    zeroFillSync(this.f, t.fd, t.offset, Math.max(this.segmentBytes, t.offset));
    this.f.fsyncSync(t.fd);
  }
}

function writeError(what: string, err: unknown): StorageWriteError {
  return new StorageWriteError(
    `wal: ${what} failed (${errorCode(err)}); the log can no longer be trusted to be durable — ` +
      'stop this node; a restart recovers from what is on disk' +
      (errorCode(err) === 'ENOSPC' ? ' (free disk space first)' : ''),
    err,
  );
}
