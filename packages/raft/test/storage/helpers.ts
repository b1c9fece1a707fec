// Shared fixtures for the storage tests: temp data directories, entries,
// a counting fs shim, and a frame walker for crafting damaged files.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Entry, FsLike, HardState, Snapshot } from '../../src/index.js';

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'tswarm-raft-storage-'));
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Entries lo..hi (inclusive) of one term, with data that names them. */
export function ents(lo: number, hi: number, term: number, size = 0): Entry[] {
  const out: Entry[] = [];
  for (let i = lo; i <= hi; i++) {
    const tag = Buffer.from(`e${i}t${term}`);
    const data = size > tag.length ? Buffer.concat([tag, Buffer.alloc(size - tag.length, i % 251)]) : tag;
    out.push({ term, index: i, type: i % 7 === 0 ? 'confChange' : 'normal', data: new Uint8Array(data) });
  }
  return out;
}

export function hs(term: number, commit: number, vote = 'node-a'): HardState {
  return { term, vote, commit };
}

export function snap(index: number, term: number, data = `state@${index}`): Snapshot {
  return {
    metadata: { index, term, confState: { voters: ['node-a', 'node-b', 'node-c'], learners: ['node-d'] } },
    data: new Uint8Array(Buffer.from(data)),
  };
}

/** Comparable form of entries: "index/term/type/data". */
export function show(entries: readonly Entry[]): string[] {
  return entries.map((e) => `${e.index}/${e.term}/${e.type}/${Buffer.from(e.data).toString('latin1')}`);
}

/** The log's segment files, oldest first. */
export function walFiles(dir: string): string[] {
  return fs.readdirSync(path.join(dir, 'wal')).filter((n) => n.endsWith('.wal')).sort();
}

/** Files in wal/ that are not (yet) segments: the next segment being prepared, leftovers. */
export function walTmpFiles(dir: string): string[] {
  return fs.readdirSync(path.join(dir, 'wal')).filter((n) => n.endsWith('.tmp')).sort();
}

export function snapFiles(dir: string): string[] {
  return fs.readdirSync(path.join(dir, 'snap')).sort();
}

/** Offsets of the records in a segment file, up to the zero tail, plus the end of the last. */
export function recordOffsets(buf: Buffer): { starts: number[]; end: number } {
  const starts: number[] = [];
  let off = 0;
  while (off + 8 <= buf.length) {
    const len = buf.readUInt32LE(off);
    if (len === 0) break;
    starts.push(off);
    off += 8 + len;
  }
  return { starts, end: off };
}

export interface SyncCounts {
  fdatasync: number;
  fsync: number;
  /** Writes through a descriptor opened O_DSYNC: each is a durable write. */
  dsyncWrites: number;
  plainWrites: number;
  /** Writes made on the calling thread (writevSync): inline saves. */
  inlineWrites: number;
}

/**
 * node:fs with counters on the durability calls made on the log's segment files (*.wal;
 * not the next segment's preparation, segment-file.ts), and an optional fault on them.
 */
export function countingFs(): {
  fs: FsLike;
  counts: SyncCounts;
  failFdatasync: (code: string | undefined) => void;
  failWritevSync: (code: string | undefined) => void;
} {
  const counts: SyncCounts = { fdatasync: 0, fsync: 0, dsyncWrites: 0, plainWrites: 0, inlineWrites: 0 };
  let writevSyncFault: string | undefined;
  const dsyncFds = new Set<number>();
  const segmentFds = new Set<number>();
  let fault: string | undefined;
  const fsAny = fs as unknown as Record<string, (...args: unknown[]) => unknown>;
  const countWrite = (fd: number) => {
    if (!segmentFds.has(fd)) return;
    if (dsyncFds.has(fd)) counts.dsyncWrites++;
    else counts.plainWrites++;
  };
  const shim = {
    ...fs,
    openSync: (...args: unknown[]) => {
      const fd = fsAny.openSync(...args) as number;
      const flags = args[1];
      if (typeof flags === 'number' && (flags & fs.constants.O_DSYNC) !== 0) dsyncFds.add(fd);
      else dsyncFds.delete(fd);
      if (String(args[0]).endsWith('.wal')) segmentFds.add(fd);
      else segmentFds.delete(fd);
      return fd;
    },
    fdatasync: (fd: number, cb: fs.NoParamCallback) => {
      if (!segmentFds.has(fd)) return fs.fdatasync(fd, cb);
      counts.fdatasync++;
      if (fault) return process.nextTick(cb, Object.assign(new Error(`${fault}: i/o error`), { code: fault }));
      fs.fdatasync(fd, cb);
    },
    fsync: (fd: number, cb: fs.NoParamCallback) => {
      if (segmentFds.has(fd)) counts.fsync++;
      fs.fsync(fd, cb);
    },
    writev: (fd: number, ...rest: unknown[]) => {
      countWrite(fd);
      fsAny.writev(fd, ...rest);
    },
    write: (fd: number, ...rest: unknown[]) => {
      countWrite(fd);
      fsAny.write(fd, ...rest);
    },
    writevSync: (fd: number, ...rest: unknown[]) => {
      if (writevSyncFault) throw Object.assign(new Error(`${writevSyncFault}: i/o error`), { code: writevSyncFault });
      if (dsyncFds.has(fd)) counts.inlineWrites++;
      return fsAny.writevSync(fd, ...rest);
    },
  } as unknown as FsLike;
  return { fs: shim, counts, failFdatasync: (code) => (fault = code), failWritevSync: (code) => (writevSyncFault = code) };
}
