// RaftStorage: where a Raft node keeps what it must not forget — its
// HardState, its log entries and its snapshots — across crashes.
//
// Two implementations sit beside this contract:
//   - DiskRaftStorage (openDiskStorage): the write-ahead log and snapshot
//     files under a data directory; what tswarmd uses.
//   - MemoryRaftStorage (MemoryDisk.open): the same record format held in
//     memory, for unit tests and the deterministic simulator, which can
//     "crash" it and lose exactly what was never synced.

import type { Entry, HardState, Snapshot } from '../core/types.js';
import type { SnapshotFileBuffer } from './snap-file.js';

// ---- Errors -------------------------------------------------------------

/**
 * A WAL record that is damaged although later records are intact (bit rot,
 * a bad disk, someone editing the files). Raft's safety rests on this node
 * remembering what it acknowledged, so the storage refuses to start rather
 * than silently forget. A torn FINAL record is not this error: it is a write
 * that never completed, and recovery truncates it.
 */
export class WalCorruptionError extends Error {
  constructor(
    readonly file: string,
    readonly offset: number,
    readonly reason: string,
  ) {
    super(
      `wal: corrupted record at ${file} offset ${offset}: ${reason}; the data directory is damaged — ` +
        'restore it from a backup or remove this manager and rejoin',
    );
    this.name = 'WalCorruptionError';
  }
}

/**
 * The durable state cannot be put back together: no usable snapshot for the
 * retained log, a missing segment, a log with a hole. The message says what
 * was found and what to do.
 */
export class StorageRecoveryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StorageRecoveryError';
  }
}

/**
 * A write, sync, or file operation failed (ENOSPC, EIO...). The storage is
 * then failed for good: after a failed fsync the kernel may have dropped the
 * dirty pages while a retry reports success ("fsyncgate"), so nothing is
 * retried. Every pending and later call rejects with the same error; the node
 * must stop, and a restart recovers from what is on disk.
 */
export class StorageWriteError extends Error {
  constructor(
    message: string,
    readonly cause?: unknown,
  ) {
    super(message);
    this.name = 'StorageWriteError';
  }
}

/** A call after close(), or after MemoryDisk.crash(). */
export class StorageClosedError extends Error {
  constructor(what = 'raft storage') {
    super(`${what} is closed`);
    this.name = 'StorageClosedError';
  }
}

// ---- What a restart gets back --------------------------------------------

export interface RecoveredState {
  /** The last HardState saved; { term: 0, vote: '', commit: 0 } if none. */
  hardState: HardState;
  /** The newest usable snapshot, absent if the log starts at index 1. */
  snapshot?: Snapshot;
  /**
   * The log after the snapshot: contiguous, entries[0].index ===
   * (snapshot?.metadata.index ?? 0) + 1. Load with MemoryStorage:
   * applySnapshot(snapshot) if any, setHardState(hardState), append(entries).
   */
  entries: Entry[];
  /** Repairs and fallbacks done while recovering, one line each, for the log. */
  warnings: string[];
}

export interface StorageStats {
  /** save() calls accepted. */
  saves: number;
  /** Durability barriers issued (fdatasync calls or O_DSYNC writes). */
  syncs: number;
  /** Write calls issued for the log (one per group of queued saves). */
  writes: number;
  /** Bytes appended to the log, framing included. */
  bytes: number;
  /** Segments cut (disk) or simulated segments started (memory). */
  segmentsCut: number;
}

// ---- The contract --------------------------------------------------------

export interface SaveOptions {
  /**
   * The caller will wait for this write with nothing else to do (a follower about to
   * acknowledge): a small synced write may be done on the calling thread, sparing the
   * thread-pool round trip that otherwise costs more than the write itself.
   */
  inline?: boolean;
}

export interface SnapshotOptions {
  /**
   * A compaction of this node's own log, at an index its log already holds: the file is
   * written beside the log's queued writes instead of in front of the ones queued after it
   * (a large state written in the queue held every save behind it); only its record in the
   * log waits its turn. Recovery reads that record the same wherever it lands after the
   * index (replay.ts). Not for a leader's snapshot, which replaces the log from its record on.
   */
  ownCompaction?: boolean;
  /**
   * The snapshot's file, built in place: `snapshot.data` is `file.data`, written by the
   * caller, who leaves it alone from now on. Spares copying a large state whole.
   */
  file?: SnapshotFileBuffer;
}

/**
 * What save() returns when the write was durable before save() returned (an inline
 * write): the caller may act on it at once instead of awaiting a turn.
 */
export const ALREADY_DURABLE: Promise<void> = Promise.resolve();

/**
 * Ownership: one RaftStorage per data directory, owned by one node loop.
 * Calls may be issued without awaiting earlier ones; they take effect in
 * call order (a single-owner FIFO), and each promise settles in call order.
 *
 * Buffers: save() and saveSnapshot() copy what they need before returning,
 * so the caller may reuse or mutate the entries and data as soon as the call
 * returns, without waiting for the promise.
 *
 * Node loop ordering for one Ready (the core's contract, etcd's order):
 *   1. if rd.snapshot:   storage.saveSnapshot(rd.snapshot)
 *   2. storage.save(rd.hardState, rd.entries, rd.mustSync)
 *   3. await both, then send rd.messages. A leader may send before its own
 *      write completes (Raft thesis §10.2.1: an entry durable on a majority
 *      of followers is committed even if not yet on the leader's disk).
 *   4. apply, advance().
 * After applying, the host may compact: take a snapshot of the applied
 * state, await saveSnapshot(), then releaseTo(i).
 *
 * Failure: a rejected promise means the node must stop (StorageWriteError).
 */
export interface RaftStorage {
  /**
   * Appends hardState (if given) and entries. Entries are ascending and
   * contiguous; entries[0].index may be <= the last saved index, which
   * replaces the log from that index on (a new leader's conflicting suffix).
   * If mustSync, resolves once durable — together with every earlier call
   * (a sync covers all that precedes it). If not, it may resolve before the
   * bytes reach the file: the storage may hold them and write them in front
   * of the next call (a crash loses them, as it may lose any unsynced write).
   * Empty entries, no hardState and !mustSync is a no-op. With opts.inline, a small
   * synced write with nothing queued before it may be done before save() returns, which
   * then returns ALREADY_DURABLE.
   */
  save(hardState: HardState | undefined, entries: readonly Entry[], mustSync: boolean, opts?: SaveOptions): Promise<void>;

  /**
   * Makes a snapshot durable (atomically: a crash leaves the old set of
   * snapshots or the new one, never a partial file) and then records it in
   * the log. It is either a compaction of this node's own log or a leader's
   * snapshot that replaces the log; recovery tells them apart as the core
   * does (does the log hold the snapshot's index with its term?).
   * Resolves once both are durable.
   */
  saveSnapshot(snapshot: Snapshot, opts?: SnapshotOptions): Promise<void>;

  /**
   * Lets the storage drop log entries at or below `index` (whole segments
   * only, so some may remain) and all but the newest SNAPSHOTS_KEPT snapshot
   * files. `index` must not exceed the newest saved snapshot's index.
   * Survive a damaged newest snapshot only if the log still covers the
   * older one: pass an index <= the older snapshot's index to keep that.
   */
  releaseTo(index: number): Promise<void>;

  /** Finishes queued calls, syncs what is unsynced, releases files. Idempotent. */
  close(): Promise<void>;

  stats(): StorageStats;
}

/** Snapshot files kept by releaseTo: the newest, plus one to fall back on if it rots. */
export const SNAPSHOTS_KEPT = 2;
