// DiskRaftStorage: RaftStorage on a data directory.
//
//   <dir>/wal/<seq>-<firstIndex>.wal   the write-ahead log (wal.ts)
//   <dir>/snap/<term>-<index>.snap     snapshots (snap-file.ts)
//
// Concurrency: a single-owner async queue. Calls are encoded on the caller's
// turn (so buffers may be reused at once) and queued; one worker runs them in
// order. Consecutive saves queued while the disk is busy go out as ONE
// write and ONE sync (group commit), so the sync rate stays at the disk's
// and throughput grows with load. A save that need not sync (a commit-only
// hardState) is held in memory and goes out with the next write, as etcd's
// buffered WAL does: one disk round trip per Ready instead of two, and the
// synced write that follows stays a single O_DSYNC write (see wal.ts).
// The disk calls run on libuv's pool, so the node loop keeps stepping
// messages meanwhile (see fs-shim.ts) — except a small synced save the
// caller marks inline, written on the caller's thread (INLINE_MAX_BYTES).

import * as path from 'node:path';
import type { Entry, HardState, Snapshot } from '../core/types.js';
import { type SnapshotRef, encodeBatch, encodeMarker } from './codec.js';
import { type FsLike, errorCode, fsyncDir, nodeFs } from './fs-shim.js';
import {
  ALREADY_DURABLE,
  type RaftStorage,
  type SaveOptions,
  type SnapshotOptions,
  type RecoveredState,
  SNAPSHOTS_KEPT,
  StorageClosedError,
  StorageRecoveryError,
  type StorageStats,
  StorageWriteError,
} from './raft-storage.js';
import { type SnapshotSource, recoverState } from './recovery.js';
import { LogReplay } from './replay.js';
import { encodeSnapshot, listSnapFiles, readSnapFile, removeTmpFiles, snapFileName, writeSnapFile } from './snap-file.js';
import { SegmentedWal, type WalOptions, type WrittenMeta } from './wal.js';
import { readWal } from './wal-read.js';
import { checkEntries, lastIndexOf } from './validate.js';

/** Saves grouped into one write: Linux's IOV_MAX, the most buffers one writev takes. */
const MAX_GROUP_WRITES = 1024;

/**
 * Unsynced records (commit-only hardStates, ~30 bytes each) held for the next write are
 * written on their own past this many: an idle-then-busy follower never holds much.
 */
const MAX_HELD_BUFS = 64;

/**
 * The largest inline save (see SaveOptions.inline): a few entries. Measured here (2026-11-27):
 * an O_DSYNC write of 520 bytes takes 70 µs (p50; p99 0.28 ms), less than the thread-pool
 * round trip around it (the worker's wake-up, then the loop's). With followers writing saves
 * up to this size inline, the raft benchmark's single-client row had a 4-5 % lower p50 and
 * used 5 % less CPU per write. Allowing 16 KiB cost 2-5 % of the 256-client throughput: a
 * busy follower's batches are larger, and its loop is better spent on the next append than
 * waiting for the disk.
 */
export const INLINE_MAX_BYTES = 4 * 1024;

export interface DiskStorageOptions extends WalOptions {
  /** File system calls; node:fs by default. Tests inject counters or faults. */
  fs?: FsLike;
}

/**
 * Opens (creating if needed) the storage in dir and recovers its state.
 * Throws WalCorruptionError or StorageRecoveryError when the directory is
 * damaged; a torn final record is cut off and reported in state.warnings.
 */
export async function openDiskStorage(
  dir: string,
  options: DiskStorageOptions = {},
): Promise<{ storage: DiskRaftStorage; state: RecoveredState }> {
  const f = options.fs ?? nodeFs;
  const walDir = path.join(dir, 'wal');
  const snapDir = path.join(dir, 'snap');
  try {
    f.mkdirSync(walDir, { recursive: true });
    f.mkdirSync(snapDir, { recursive: true });
    // Directories just created must survive a crash too, or the log with them.
    fsyncDir(f, dir);
    fsyncDir(f, path.dirname(path.resolve(dir)));
  } catch (err) {
    throw new StorageRecoveryError(
      `raft storage: cannot use the data directory ${dir} (${errorCode(err)}): ${(err as Error).message}; ` +
        'check that it exists, is writable by this user, and that the disk is not full',
    );
  }
  const warnings: string[] = [];
  for (const name of removeTmpFiles(f, walDir)) warnings.push(`wal: removed ${name}, left by an interrupted segment creation or preparation`);
  for (const name of removeTmpFiles(f, snapDir)) warnings.push(`snap: removed ${name}, left by an interrupted snapshot save`);

  const read = readWal(f, walDir);
  const snapFiles = listSnapFiles(f, snapDir);
  if (!read.replay && snapFiles.length > 0) {
    throw new StorageRecoveryError(
      `raft storage: ${walDir} holds no log segments but ${snapDir} holds snapshots; the data directory is damaged — ` +
        'restore it from a backup or remove this manager and rejoin',
    );
  }
  const source: SnapshotSource = {
    list: () => snapFiles,
    load: (ref) => readSnapFile(f, snapDir, snapFiles.find((s) => s.index === ref.index && s.term === ref.term)!),
    describe: (ref) => snapFileName(ref),
  };
  const { state, unrecorded } = recoverState(read.replay?.replay ?? new LogReplay(), source, warnings, dir);
  for (const ref of unrecorded) f.unlinkSync(path.join(snapDir, snapFileName(ref)));
  const { wal, torn } = SegmentedWal.resume(f, walDir, read, options);
  if (torn !== undefined) {
    warnings.push(
      `wal: cut off a torn record at ${wal.tailName} offset ${read.replay?.tailEnd} (${torn}): ` +
        'a write that was not yet synced when the node stopped',
    );
  }
  const storage = new DiskRaftStorage(f, snapDir, wal, state.snapshot?.metadata.index ?? 0, lastIndexOf(state));
  return { storage, state };
}

type Op =
  | { kind: 'write'; buf: Buffer; sync: boolean; meta: WrittenMeta }
  | { kind: 'snapshot'; ref: SnapshotRef; file: Buffer }
  | { kind: 'marker'; ref: SnapshotRef }
  | { kind: 'release'; index: number }
  | { kind: 'close' };

interface Queued {
  op: Op;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class DiskRaftStorage implements RaftStorage {
  private readonly queue: Queued[] = [];
  private running = false;
  /** Set once a write or sync failed: every later call rejects with it. */
  private failed: StorageWriteError | undefined;
  private closing: Promise<void> | undefined;
  private saves = 0;
  private bytes = 0;
  /**
   * Records of !mustSync saves not yet written: they go out in front of the next write
   * (or before any other operation). Lost in a crash, as unsynced bytes may be anyway.
   */
  private held: { bufs: Buffer[]; bytes: number; meta: WrittenMeta } = { bufs: [], bytes: 0, meta: {} };

  /** Use openDiskStorage(). */
  constructor(
    private readonly f: FsLike,
    private readonly snapDir: string,
    private readonly wal: SegmentedWal,
    /** Invariant: the index of the newest durable snapshot (0 if none). */
    private newestSnapshotIndex: number,
    /** The log's last index as of the calls made so far (queued or not). */
    private lastIndex: number,
  ) {}

  save(hardState: HardState | undefined, entries: readonly Entry[], mustSync: boolean, opts?: SaveOptions): Promise<void> {
    if (!hardState && entries.length === 0 && !mustSync) return Promise.resolve();
    let buf: Buffer;
    try {
      checkEntries(entries, this.lastIndex);
      buf = encodeBatch(hardState, entries);
    } catch (err) {
      return Promise.reject(err);
    }
    this.saves++;
    if (entries.length > 0) this.lastIndex = entries[entries.length - 1].index;
    const meta: WrittenMeta = {
      lastIndex: entries.length > 0 ? entries[entries.length - 1].index : undefined,
      hardState: hardState ? { ...hardState } : undefined,
    };
    const op: Op = { kind: 'write', buf, sync: mustSync, meta };
    if (opts?.inline && mustSync && this.idle() && this.held.bytes + buf.length <= INLINE_MAX_BYTES) {
      try {
        if (this.writeInline(op)) return ALREADY_DURABLE;
      } catch (err) {
        this.fail(err as StorageWriteError, []);
        return Promise.reject(err);
      }
    }
    return this.enqueue(op);
  }

  /** Nothing queued or running, not failed or closing: a write now keeps the call order. */
  private idle(): boolean {
    return !this.running && this.queue.length === 0 && !this.failed && !this.closing;
  }

  /** The held records and op's in one O_DSYNC write on this thread, if the WAL can (appendSync). */
  private writeInline(op: Extract<Op, { kind: 'write' }>): boolean {
    const h = this.held;
    const bufs = [...h.bufs, op.buf];
    const bytes = h.bytes + op.buf.length;
    const meta: WrittenMeta = { lastIndex: op.meta.lastIndex ?? h.meta.lastIndex, hardState: op.meta.hardState ?? h.meta.hardState };
    if (!this.wal.appendSync(bufs, bytes, meta)) return false;
    this.held = { bufs: [], bytes: 0, meta: {} };
    this.bytes += bytes;
    return true;
  }

  saveSnapshot(snapshot: Snapshot, opts: SnapshotOptions = {}): Promise<void> {
    const ref = { index: snapshot.metadata.index, term: snapshot.metadata.term };
    this.lastIndex = Math.max(this.lastIndex, ref.index);
    const file = opts.file ? opts.file.seal(snapshot) : encodeSnapshot(snapshot);
    if (!opts.ownCompaction) return this.enqueue({ kind: 'snapshot', ref, file });
    if (this.failed || this.closing) return this.enqueue({ kind: 'marker', ref }); // rejects, as any call now
    return this.writeSnapshotFile(ref, file).then(() => this.enqueue({ kind: 'marker', ref }));
  }

  releaseTo(index: number): Promise<void> {
    return this.enqueue({ kind: 'release', index });
  }

  close(): Promise<void> {
    if (!this.closing) {
      this.closing = this.failed ? this.wal.closeFiles() : this.enqueue({ kind: 'close' }, true);
    }
    return this.closing;
  }

  stats(): StorageStats {
    return { saves: this.saves, syncs: this.wal.syncs, writes: this.wal.writes, bytes: this.bytes, segmentsCut: this.wal.cuts };
  }

  /** Names of the log segments on disk, oldest first (for tests and diagnostics). */
  segmentNames(): string[] {
    return this.wal.segmentNames();
  }

  private enqueue(op: Op, closing = false): Promise<void> {
    if (this.failed) return Promise.reject(this.failed);
    if (this.closing && !closing) return Promise.reject(new StorageClosedError());
    return new Promise((resolve, reject) => {
      this.queue.push({ op, resolve, reject });
      if (!this.running) {
        // Start on the next microtask, so every save issued in this turn of
        // the event loop joins the first write.
        this.running = true;
        queueMicrotask(() => void this.run());
      }
    });
  }

  /** The single worker: drains the queue in order. */
  private async run(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.takeBatch();
      try {
        await this.execute(batch.map((q) => q.op));
        for (const q of batch) q.resolve();
      } catch (err) {
        if (err instanceof StorageWriteError) {
          this.fail(err, batch);
        } else {
          // A caller error (e.g. releasing past the snapshot): only this call fails.
          for (const q of batch) q.reject(err as Error);
        }
      }
    }
    this.running = false;
  }

  /** A run of consecutive writes (group commit), or one other operation. */
  private takeBatch(): Queued[] {
    if (this.queue[0].op.kind !== 'write') return this.queue.splice(0, 1);
    let n = 1;
    while (n < this.queue.length && n < MAX_GROUP_WRITES && this.queue[n].op.kind === 'write') n++;
    return this.queue.splice(0, n);
  }

  private async execute(ops: Op[]): Promise<void> {
    const op = ops[0];
    if (op.kind === 'write') return this.writeGroup(ops as Array<Extract<Op, { kind: 'write' }>>);
    // Everything else sees the log as written so far, held records included.
    await this.flushHeld();
    switch (op.kind) {
      case 'snapshot':
        await this.writeSnapshotFile(op.ref, op.file);
        return this.appendMarker(op.ref);
      case 'marker':
        return this.appendMarker(op.ref);
      case 'release':
        return this.release(op.index);
      case 'close':
        return this.wal.close();
    }
  }

  private async writeGroup(ops: Array<Extract<Op, { kind: 'write' }>>): Promise<void> {
    const h = this.held;
    let sync = false;
    for (const op of ops) {
      h.bufs.push(op.buf);
      h.bytes += op.buf.length;
      sync ||= op.sync;
      if (op.meta.lastIndex !== undefined) h.meta.lastIndex = op.meta.lastIndex;
      if (op.meta.hardState) h.meta.hardState = op.meta.hardState;
    }
    // Nothing here must be durable yet: keep it for the next write (see the header).
    if (!sync && h.bufs.length < MAX_HELD_BUFS) return;
    await this.writeHeld(sync);
  }

  private async flushHeld(): Promise<void> {
    if (this.held.bufs.length > 0) await this.writeHeld(false);
  }

  private async writeHeld(sync: boolean): Promise<void> {
    const { bufs, bytes, meta } = this.held;
    this.held = { bufs: [], bytes: 0, meta: {} };
    await this.wal.append(bufs, bytes, sync, meta);
    this.bytes += bytes;
  }

  private async writeSnapshotFile(ref: SnapshotRef, file: Buffer): Promise<void> {
    try {
      await writeSnapFile(this.f, this.snapDir, snapFileName(ref), file);
    } catch (err) {
      throw new StorageWriteError(
        `snap: saving ${snapFileName(ref)} in ${this.snapDir} failed (${errorCode(err)}); stop this node — ` +
          'a restart recovers from what is on disk',
        err,
      );
    }
  }

  /** Records a durable snapshot file in the log; only then may the log point at it. */
  private async appendMarker(ref: SnapshotRef): Promise<void> {
    const marker = encodeMarker(ref);
    await this.wal.append([marker], marker.length, true, { marker: ref });
    this.bytes += marker.length;
    this.newestSnapshotIndex = Math.max(this.newestSnapshotIndex, ref.index);
  }

  private async release(index: number): Promise<void> {
    if (index > this.newestSnapshotIndex) {
      throw new RangeError(
        `raft storage: cannot release the log to ${index}: the newest saved snapshot is at ${this.newestSnapshotIndex}; ` +
          'save a snapshot covering it first',
      );
    }
    this.wal.release(index);
    const old = listSnapFiles(this.f, this.snapDir).slice(SNAPSHOTS_KEPT);
    try {
      for (const s of old) this.f.unlinkSync(path.join(this.snapDir, s.name));
      if (old.length > 0) fsyncDir(this.f, this.snapDir);
    } catch (err) {
      throw new StorageWriteError(`snap: removing old snapshots failed (${errorCode(err)}); stop this node`, err);
    }
  }

  private fail(err: StorageWriteError, batch: Queued[]): void {
    this.failed = err;
    void this.wal.closeFiles(); // close() waits for what it stops
    for (const q of batch) q.reject(err);
    for (const q of this.queue.splice(0)) q.reject(err);
  }
}
