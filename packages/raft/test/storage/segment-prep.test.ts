// Zero-filled segments and the next one prepared beside the loop (segment-file.ts):
// every segment is allocated whole before records go in, a cut installs the file
// prepared while the tail filled, and the preparation never outlives the storage
// or breaks the log before the cut.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { type FsLike, openDiskStorage, SEGMENT_BYTES } from '../../src/index.js';
import { ents, hs, recordOffsets, removeDir, show, tempDir, walFiles, walTmpFiles } from './helpers.js';

const SEG_BYTES = 64 * 1024;
/** Three 1-MiB zero writes per preparation (ZERO_WRITE_BYTES): room to stop one midway. */
const BIG_SEG_BYTES = 3 * 1024 * 1024;
const SEG1 = '0000000000000001-0000000000000001.wal';
const PREP2 = '0000000000000002.wal.tmp';

/** Whether the file's blocks are all allocated and everything after its records is zero. */
function zeroFilledBeyondRecords(file: string): { allocated: boolean; zeroTail: boolean; size: number } {
  const st = fs.statSync(file);
  const buf = fs.readFileSync(file);
  const { end } = recordOffsets(buf);
  const zeroTail = buf.subarray(end).equals(Buffer.alloc(buf.length - end));
  return { allocated: st.blocks * 512 >= st.size, zeroTail, size: st.size };
}

/** A sync call made on the event loop, for checking what a cut does there. */
interface LoopCall {
  call: string;
  bytes: number;
}

/**
 * node:fs that sees the preparation: its writes (to *.tmp files in wal/) can be held or
 * failed, the descriptors opened and closed are counted, and the sync calls recorded.
 */
function prepFs() {
  const fsAny = fs as unknown as Record<string, (...args: unknown[]) => unknown>;
  const tmpFds = new Set<number>();
  const openFds = new Set<number>();
  const held: Array<() => void> = [];
  const state = {
    /** Hold the preparation's writes once this many have run (Infinity: never). */
    holdAfter: Infinity,
    /** Fail the preparation's writes with this code. */
    fault: undefined as string | undefined,
    prepWrites: 0,
    prepWritesInFlight: 0,
    loopCalls: [] as LoopCall[],
  };
  const prepWrite = (fd: number, ...rest: unknown[]) => {
    const cb = rest.at(-1) as (err: Error | null, n?: number) => void;
    const run = () => {
      state.prepWrites++;
      state.prepWritesInFlight++;
      const done = (err: Error | null, n?: number) => {
        state.prepWritesInFlight--;
        cb(err, n);
      };
      if (state.fault) return process.nextTick(done, Object.assign(new Error(`${state.fault}: no space left`), { code: state.fault }));
      fsAny.write(fd, ...rest.slice(0, -1), done);
    };
    if (state.prepWrites >= state.holdAfter) held.push(run);
    else run();
  };
  const shim = {
    ...fs,
    openSync: (file: string, ...rest: unknown[]) => {
      const fd = fsAny.openSync(file, ...rest) as number;
      openFds.add(fd);
      if (file.endsWith('.tmp')) tmpFds.add(fd);
      else tmpFds.delete(fd);
      return fd;
    },
    closeSync: (fd: number) => {
      openFds.delete(fd);
      fs.closeSync(fd);
    },
    write: (fd: number, ...rest: unknown[]) => (tmpFds.has(fd) ? prepWrite(fd, ...rest) : fsAny.write(fd, ...rest)),
    writeSync: (fd: number, buf: Buffer, ...rest: unknown[]) => {
      const n = fsAny.writeSync(fd, buf, ...rest) as number;
      state.loopCalls.push({ call: 'writeSync', bytes: n });
      return n;
    },
    ftruncateSync: (fd: number, len?: number) => {
      state.loopCalls.push({ call: 'ftruncateSync', bytes: len ?? 0 });
      fs.ftruncateSync(fd, len);
    },
    fsyncSync: (fd: number) => {
      state.loopCalls.push({ call: 'fsyncSync', bytes: fs.fstatSync(fd).size });
      fs.fsyncSync(fd);
    },
  } as unknown as FsLike;
  const release = () => {
    state.holdAfter = Infinity;
    for (const run of held.splice(0)) run();
  };
  return { fs: shim, state, held, openFds, release };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !cond(); i++) await sleep(5);
  assert.ok(cond(), `timed out waiting until ${what}`);
}

/** The save's outcome if it settles within ms, else 'pending'. */
function settledWithin(p: Promise<void>, ms: number): Promise<'resolved' | 'rejected' | 'pending'> {
  return Promise.race([p.then(() => 'resolved' as const, () => 'rejected' as const), sleep(ms).then(() => 'pending' as const)]);
}

describe('disk raft storage: zero-filled segments, the next one prepared beside the loop', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => removeDir(dir));

  it("zero-fills a fresh log's first segment at open: allocated whole, zeros after its records", async () => {
    const { storage } = await openDiskStorage(dir);
    await storage.save(hs(1, 0), ents(1, 5, 1, 100), true);
    const seg = zeroFilledBeyondRecords(path.join(dir, 'wal', SEG1));
    assert.deepEqual(seg, { allocated: true, zeroTail: true, size: SEGMENT_BYTES });
    await storage.close();
  });

  it('refuses to open a fresh log whose first segment cannot be zero-filled, saying to free disk space', async () => {
    const full = {
      ...fs,
      writeSync: () => {
        throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
      },
    } as unknown as FsLike;
    await assert.rejects(openDiskStorage(dir, { segmentBytes: SEG_BYTES, fs: full }), {
      name: 'StorageWriteError',
      message: /^wal: creating the first segment in .* failed \(ENOSPC\); the log is empty, nothing is lost — check that the disk has 65536 bytes free/,
    });
    const { storage, state } = await openDiskStorage(dir, { segmentBytes: SEG_BYTES });
    assert.deepEqual(state.warnings, ['wal: removed 0000000000000001.wal.tmp, left by an interrupted segment creation or preparation']);
    await storage.close();
  });

  it('installs the file prepared beside the loop at each cut: no allocation or zero-fill on the loop', async () => {
    const { fs: shim, state } = prepFs();
    const { storage } = await openDiskStorage(dir, { segmentBytes: SEG_BYTES, fs: shim });
    let index = 1;
    while (storage.stats().segmentsCut < 3) {
      const cuts = storage.stats().segmentsCut;
      const prepared = walTmpFiles(dir).map((n) => fs.statSync(path.join(dir, 'wal', n)).ino);
      state.loopCalls = [];
      await storage.save(hs(1, index - 1), ents(index, index + 3, 1, 1000), true);
      index += 4;
      if (storage.stats().segmentsCut === cuts) continue;
      const onLoop = state.loopCalls;
      assert.deepEqual(onLoop.filter((c) => c.call === 'ftruncateSync' && c.bytes >= SEG_BYTES), [], 'no preallocation on the loop');
      const written = onLoop.filter((c) => c.call === 'writeSync').reduce((s, c) => s + c.bytes, 0);
      assert.ok(written < 1024, `only the start records are written on the loop, not ${written} bytes`);
      assert.deepEqual(onLoop.filter((c) => c.call === 'fsyncSync' && c.bytes >= SEG_BYTES), [], 'no segment-sized fsync on the loop');
      const tail = path.join(dir, 'wal', walFiles(dir).at(-1)!);
      assert.deepEqual(prepared, [fs.statSync(tail).ino], 'the new segment is the file prepared before the cut, renamed');
    }
    for (const name of walFiles(dir)) {
      const seg = zeroFilledBeyondRecords(path.join(dir, 'wal', name));
      assert.deepEqual([seg.allocated, seg.zeroTail], [true, true], name);
    }
    assert.equal(zeroFilledBeyondRecords(path.join(dir, 'wal', walFiles(dir).at(-1)!)).size, SEG_BYTES);
    await storage.close();
    const { storage: s2, state: recovered } = await openDiskStorage(dir, { segmentBytes: SEG_BYTES });
    assert.deepEqual(show(recovered.entries), show(ents(1, index - 1, 1, 1000)));
    await s2.close();
  });

  it('keeps appending while the next segment is being prepared; the cut waits for it', async () => {
    const { fs: shim, state, held, release } = prepFs();
    state.holdAfter = 0;
    const { storage } = await openDiskStorage(dir, { segmentBytes: SEG_BYTES, fs: shim });
    await until('the preparation writes', () => held.length === 1);
    let index = 1;
    let saved = 0;
    for (;;) {
      const save = storage.save(hs(1, index - 1), ents(index, index + 3, 1, 1000), true);
      index += 4;
      const outcome = await settledWithin(save, 100);
      if (outcome === 'resolved') {
        saved++;
        continue;
      }
      assert.equal(outcome, 'pending');
      assert.equal(storage.stats().segmentsCut, 0, 'the save waits at the cut');
      assert.ok(saved >= 10, `appends went on while the preparation was held (${saved} saves)`);
      assert.equal(held.length, 1, 'the preparation is still held');
      release();
      await save;
      break;
    }
    assert.equal(storage.stats().segmentsCut, 1);
    await storage.close();
    const { storage: s2, state: recovered } = await openDiskStorage(dir, { segmentBytes: SEG_BYTES });
    assert.deepEqual(show(recovered.entries), show(ents(1, index - 1, 1, 1000)));
    await s2.close();
  });

  it('a preparation failing with ENOSPC leaves the appends before the cut alone; the cut fails the storage, saying to free disk space', async () => {
    const { fs: shim, state } = prepFs();
    state.fault = 'ENOSPC';
    const { storage } = await openDiskStorage(dir, { segmentBytes: SEG_BYTES, fs: shim });
    await until('the preparation failed and removed its file', () => state.prepWrites > 0 && walTmpFiles(dir).length === 0);
    let index = 1;
    let error: unknown;
    for (; index < 1000; index += 4) {
      try {
        await storage.save(hs(1, index - 1), ents(index, index + 3, 1, 1000), true);
      } catch (err) {
        error = err;
        break;
      }
    }
    assert.ok(index > 40, `the tail was filled before the error (${index - 1} entries)`);
    assert.equal((error as Error).name, 'StorageWriteError');
    assert.match(
      (error as Error).message,
      /^wal: preparing the segment after 0000000000000001-0000000000000001\.wal failed \(ENOSPC\);.*stop this node.*\(free disk space first\)$/,
    );
    assert.equal(state.prepWrites, 2, 'prepared again once at the cut');
    await assert.rejects(storage.save(undefined, ents(index, index, 1), true), { name: 'StorageWriteError' });
    await storage.close();
    assert.deepEqual(walTmpFiles(dir), []);
    const { storage: s2, state: recovered } = await openDiskStorage(dir, { segmentBytes: SEG_BYTES });
    assert.deepEqual(show(recovered.entries), show(ents(1, index - 1, 1, 1000)), 'everything before the cut is durable');
    await s2.close();
  });

  it('prepares again at the cut when the first preparation failed, and goes on if that succeeds', async () => {
    const { fs: shim, state } = prepFs();
    state.fault = 'ENOSPC';
    const { storage } = await openDiskStorage(dir, { segmentBytes: SEG_BYTES, fs: shim });
    await until('the preparation failed', () => state.prepWrites > 0 && walTmpFiles(dir).length === 0);
    state.fault = undefined; // space was freed meanwhile
    let index = 1;
    while (storage.stats().segmentsCut === 0) {
      await storage.save(hs(1, index - 1), ents(index, index + 3, 1, 1000), true);
      index += 4;
    }
    await storage.close();
    const { storage: s2, state: recovered } = await openDiskStorage(dir, { segmentBytes: SEG_BYTES });
    assert.deepEqual(show(recovered.entries), show(ents(1, index - 1, 1, 1000)));
    await s2.close();
  });

  it('close during a preparation stops it after the write in flight: no .tmp left, no fd open', async () => {
    const { fs: shim, state, held, openFds, release } = prepFs();
    state.holdAfter = 1; // the second of three zero writes is held
    const { storage } = await openDiskStorage(dir, { segmentBytes: BIG_SEG_BYTES, fs: shim });
    await storage.save(hs(1, 0), ents(1, 4, 1), true);
    await until('the preparation is held midway', () => held.length === 1);
    const closed = storage.close();
    assert.equal(await settledWithin(closed, 50), 'pending', 'close waits for the write in flight');
    release();
    await closed;
    assert.equal(state.prepWrites, 2, 'no write after the one in flight');
    assert.equal(state.prepWritesInFlight, 0);
    assert.deepEqual(walTmpFiles(dir), []);
    assert.deepEqual([...openFds], [], 'every descriptor opened was closed');
    await sleep(20);
    assert.equal(state.prepWrites, 2, 'nothing more ran after close');
  });

  it('a storage failed by a write error stops its preparation too: close leaves no .tmp, no fd open', async () => {
    const { fs: shim, state, held, openFds, release } = prepFs();
    state.holdAfter = 1;
    const { storage } = await openDiskStorage(dir, { segmentBytes: BIG_SEG_BYTES, fs: shim, syncMethod: 'fdatasync' });
    await until('the preparation is held midway', () => held.length === 1);
    const failingFs = shim as unknown as { fdatasync: (fd: number, cb: fs.NoParamCallback) => void };
    failingFs.fdatasync = (_fd, cb) => process.nextTick(cb, Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }));
    await assert.rejects(storage.save(hs(1, 0), ents(1, 1, 1), true), { name: 'StorageWriteError' });
    const closed = storage.close();
    release();
    await closed;
    assert.equal(state.prepWritesInFlight, 0);
    assert.deepEqual(walTmpFiles(dir), []);
    assert.deepEqual([...openFds], []);
  });

  it('removes the .tmp left by a crash mid-preparation at the next open, and recovers the log', async () => {
    const gate = prepFs();
    gate.state.holdAfter = 1;
    const { storage } = await openDiskStorage(dir, { segmentBytes: BIG_SEG_BYTES, fs: gate.fs });
    await storage.save(hs(1, 4), ents(1, 8, 1, 200), true);
    await until('the preparation is held midway', () => gate.held.length === 1);
    // The crash: the directory as it is now, with 1 MiB of the next segment written.
    const crashed = tempDir();
    try {
      fs.cpSync(dir, crashed, { recursive: true });
      const leftover = path.join(crashed, 'wal', PREP2);
      assert.equal(fs.statSync(leftover).size, 1024 * 1024);
      const { storage: s2, state } = await openDiskStorage(crashed, { segmentBytes: BIG_SEG_BYTES });
      assert.deepEqual(state.warnings, [`wal: removed ${PREP2}, left by an interrupted segment creation or preparation`]);
      assert.deepEqual(show(state.entries), show(ents(1, 8, 1, 200)));
      assert.deepEqual(state.hardState, hs(1, 4));
      await s2.close();
      assert.deepEqual(walTmpFiles(crashed), [], 'and the preparation started afresh is gone with close');
    } finally {
      gate.release();
      await storage.close();
      removeDir(crashed);
    }
  });

  it('zero-fills the rest of a torn tail after cutting the torn record off', async () => {
    const { storage } = await openDiskStorage(dir, { segmentBytes: SEG_BYTES });
    await storage.save(hs(1, 3), ents(1, 5, 1, 40), true);
    await storage.save(hs(1, 5), ents(6, 8, 1, 40), true);
    await storage.close();
    const file = path.join(dir, 'wal', SEG1);
    const { starts } = recordOffsets(fs.readFileSync(file));
    fs.truncateSync(file, starts.at(-1)! + 6); // the file ends inside the last record's crc
    const { storage: s2, state } = await openDiskStorage(dir, { segmentBytes: SEG_BYTES });
    assert.match(state.warnings[0], /cut off a torn record/);
    assert.deepEqual(zeroFilledBeyondRecords(file), { allocated: true, zeroTail: true, size: SEG_BYTES });
    await s2.close();
  });
});
