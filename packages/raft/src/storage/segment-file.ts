// Making the WAL's segment files (wal.ts decides when): each one is written
// with zeros and synced as <walDir>/<seq>.wal.tmp, then installed at its
// final name with its start records. Why zeros that were written, and not
// ftruncate or fallocate: see SEGMENT_BYTES in wal.ts.
//
// A fresh log's first segment is zero-filled on the calling thread
// (createZeroFilledSync). Every later one is prepared beside the loop
// (SegmentPreparation) while the tail before it fills, as etcd's filePipeline
// prepares its next file, so that a cut only installs it. A preparation:
//   - touches only its own file, never the tail: it needs no turn in the
//     storage's single-owner queue;
//   - makes one thread-pool call at a time, so the WAL's own writes always
//     find a free thread (libuv has four);
//   - keeps a failure (ENOSPC, EIO) until ready() is called, and removes its
//     partial file at once, giving back the space it took;
//   - stops after the call in flight when abandon()ed, closes and removes its
//     file; abandon()'s promise resolves once no call of it is running.
// A crash leaves the .tmp behind; openDiskStorage removes every *.tmp in the
// WAL directory before reading it (removeTmpFiles in snap-file.ts).

import * as path from 'node:path';
import { type FsLike, fdatasyncAsync, fsyncAsync, fsyncDir, writeAll } from './fs-shim.js';
import { hex16 } from './snap-file.js';

/** Zeros per write(): 64 calls for a 64-MiB segment; abandon() waits for one at most. */
const ZERO_WRITE_BYTES = 1024 * 1024;

/**
 * A preparation fdatasync()s after every this many bytes, then fsync()s once at the end,
 * so the WAL's O_DSYNC writes never queue behind a large flush. Measured here
 * (2026-11-27), 4-KiB O_DSYNC writes beside the preparation of a 64-MiB file (1-MiB
 * writes): with one fsync at the end, one WAL write waited 40 ms; with an fdatasync
 * every 4 MiB the writes' p90 was 2.1-2.8 ms, every 1 MiB 0.7-2.1 ms (p50 0.3-0.5 ms
 * either way, against 0.07-0.09 ms without a preparation), the preparation taking
 * 64-92 ms against 66-77.
 */
const ZERO_SYNC_BYTES = 1024 * 1024;

const ZEROS = Buffer.alloc(ZERO_WRITE_BYTES);

/** The file segment seq is made in: it ends in .tmp, so a crash's leftover is removed at open. */
export function preparedName(seq: number): string {
  return `${hex16(seq)}.wal.tmp`;
}

/** Writes zeros over [from, to) of fd on the calling thread. */
export function zeroFillSync(f: FsLike, fd: number, from: number, to: number): void {
  for (let off = from; off < to; ) off += f.writeSync(fd, ZEROS, 0, Math.min(ZERO_WRITE_BYTES, to - off), off);
}

/** Creates file as `bytes` zeros, synced, on the calling thread (≈ 80 ms at 64 MiB). */
export function createZeroFilledSync(f: FsLike, file: string, bytes: number): void {
  const fd = f.openSync(file, 'w+', 0o600);
  try {
    zeroFillSync(f, fd, 0, bytes);
    f.fsyncSync(fd);
  } finally {
    f.closeSync(fd);
  }
}

/**
 * Makes the zero-filled, synced file tmp the segment dir/name, atomically: its start
 * records written at offset 0 and synced, then the rename and the directory's fsync. On
 * the calling thread: the file's size and blocks are durable already, so the sync covers
 * a few hundred bytes, as an inline save's does.
 */
export function installSegmentFile(f: FsLike, dir: string, tmp: string, name: string, start: Buffer): void {
  const fd = f.openSync(tmp, 'r+');
  try {
    f.writeSync(fd, start, 0, start.length, 0);
    f.fdatasyncSync(fd);
  } finally {
    f.closeSync(fd);
  }
  f.renameSync(tmp, path.join(dir, name));
  fsyncDir(f, dir);
}

export class SegmentPreparation {
  private abandoned = false;
  /** Settles when the preparation has ended: undefined once the file is ready, else its error. Never rejects. */
  private readonly done: Promise<Error | undefined>;

  /** Starts writing `bytes` zeros to the file `tmp` on the thread pool. */
  constructor(
    private readonly f: FsLike,
    readonly tmp: string,
    private readonly bytes: number,
  ) {
    this.done = this.run().then(
      () => undefined,
      (err: Error) => {
        removeQuietly(f, tmp);
        return err;
      },
    );
  }

  /** Resolves once the file is zero-filled and synced; throws what made the preparation fail. */
  async ready(): Promise<void> {
    const err = await this.done;
    if (err) throw err;
  }

  /** Stops after the call in flight, closes and removes the file; resolves when nothing of it runs. */
  async abandon(): Promise<void> {
    this.abandoned = true;
    // Finished before it was stopped: the file is whole, and unused.
    if ((await this.done) === undefined) removeQuietly(this.f, this.tmp);
  }

  private async run(): Promise<void> {
    const fd = this.f.openSync(this.tmp, 'w+', 0o600);
    try {
      for (let off = 0; off < this.bytes; ) {
        this.stopIfAbandoned();
        const n = Math.min(ZERO_WRITE_BYTES, this.bytes - off);
        await writeAll(this.f, fd, n === ZEROS.length ? ZEROS : ZEROS.subarray(0, n), off);
        off += n;
        if (off % ZERO_SYNC_BYTES === 0 && off < this.bytes) {
          this.stopIfAbandoned();
          await fdatasyncAsync(this.f, fd);
        }
      }
      this.stopIfAbandoned();
      // fsync, not fdatasync: every block and attribute of the file is durable before a
      // cut writes its first bytes and syncs those alone (installSegmentFile).
      await fsyncAsync(this.f, fd);
    } finally {
      this.f.closeSync(fd);
    }
  }

  private stopIfAbandoned(): void {
    if (this.abandoned) throw new Error('segment preparation abandoned');
  }
}

/** Unlinks file if it is there. */
function removeQuietly(f: FsLike, file: string): void {
  try {
    f.unlinkSync(file);
  } catch {
    // ENOENT (its open failed) or worse: the next open's removeTmpFiles() takes it.
  }
}
