// The file system calls the disk storage makes, as an injectable subset of
// node:fs, so tests can count syncs or inject failures (pass
// `{ ...fs, fdatasync: countingFdatasync }`).
//
// Which calls are async: the hot path (log writes and syncs) and the snapshot
// data write. They run on libuv's thread pool so the node loop keeps stepping
// messages while the disk works — that overlap is what makes group commit pay
// on a small machine. The exception is a follower's small synced append, which
// it waits for with nothing else to do (see DiskRaftStorage.save). Everything
// else (open, rename, unlink, directory sync, recovery reads) is rare and
// short, and runs synchronously inside the storage's single-owner queue,
// which keeps the ordering obvious.

import * as fs from 'node:fs';

export type FsLike = Pick<
  typeof fs,
  | 'openSync'
  | 'closeSync'
  | 'readFileSync'
  | 'readdirSync'
  | 'mkdirSync'
  | 'renameSync'
  | 'unlinkSync'
  | 'ftruncateSync'
  | 'fsyncSync'
  | 'fdatasyncSync'
  | 'writeSync'
  | 'writevSync'
  | 'write'
  | 'writev'
  | 'fdatasync'
  | 'fsync'
  | 'constants'
>;

export const nodeFs: FsLike = fs;

/** Writes all of buf at position (looping over short writes) on the thread pool. */
export function writeAll(f: FsLike, fd: number, buf: Buffer, position: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const step = (done: number): void => {
      f.write(fd, buf, done, buf.length - done, position + done, (err, n) => {
        if (err) reject(err);
        else if (done + n >= buf.length) resolve();
        else step(done + n);
      });
    };
    step(0);
  });
}

/** Writes several buffers at position with one writev() when it completes fully. */
export function writevAll(f: FsLike, fd: number, bufs: Buffer[], position: number): Promise<void> {
  if (bufs.length === 1) return writeAll(f, fd, bufs[0], position);
  return new Promise((resolve, reject) => {
    f.writev(fd, bufs, position, (err, n) => {
      if (err) return reject(err);
      const total = bufs.reduce((s, b) => s + b.length, 0);
      if (n >= total) return resolve();
      // A short writev (rare on regular files): finish the rest with write().
      writeAll(f, fd, Buffer.concat(bufs).subarray(n), position + n).then(resolve, reject);
    });
  });
}

/** Writes all of bufs at position on the calling thread. */
export function writevAllSync(f: FsLike, fd: number, bufs: Buffer[], position: number): void {
  const total = bufs.reduce((s, b) => s + b.length, 0);
  const n = f.writevSync(fd, bufs, position);
  if (n >= total) return;
  // A short writev (rare on regular files): finish the rest with write().
  const rest = Buffer.concat(bufs).subarray(n);
  for (let done = 0; done < rest.length; ) done += f.writeSync(fd, rest, done, rest.length - done, position + n + done);
}

export function fdatasyncAsync(f: FsLike, fd: number): Promise<void> {
  return new Promise((resolve, reject) => f.fdatasync(fd, (err) => (err ? reject(err) : resolve())));
}

export function fsyncAsync(f: FsLike, fd: number): Promise<void> {
  return new Promise((resolve, reject) => f.fsync(fd, (err) => (err ? reject(err) : resolve())));
}

/** Makes renames, creations and unlinks in dir durable. */
export function fsyncDir(f: FsLike, dir: string): void {
  const fd = f.openSync(dir, 'r');
  try {
    f.fsyncSync(fd);
  } finally {
    f.closeSync(fd);
  }
}

export function errorCode(err: unknown): string {
  return err instanceof Error && 'code' in err ? String((err as NodeJS.ErrnoException).code) : String(err);
}
