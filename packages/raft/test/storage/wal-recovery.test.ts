// Recovery from damaged logs, crafted byte by byte: a torn final record is
// a write the crash interrupted (cut off, carry on); a bad record with good
// ones after it is corruption (refuse, and say what to do).

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openDiskStorage } from '../../src/index.js';
import { ents, hs, recordOffsets, removeDir, show, tempDir, walFiles, walTmpFiles } from './helpers.js';

const SEG1 = '0000000000000001-0000000000000001.wal';

/** Writes 1..5 synced, then 6..8 + a hardState as the final batch; returns the segment path. */
/** Small segments keep these tests fast: every open reads the preallocated tail. */
const SEG_BYTES = 64 * 1024;

async function writeLog(dir: string): Promise<string> {
  const { storage } = await openDiskStorage(dir, { segmentBytes: SEG_BYTES });
  await storage.save(hs(1, 3), ents(1, 5, 1, 40), true);
  await storage.save(hs(1, 5), ents(6, 8, 1, 40), true);
  await storage.close();
  return path.join(dir, 'wal', walFiles(dir).at(-1)!);
}

/** Writes 1..40 in batches of four: with a small segment bound, many segments. */
async function writeMany(dir: string, segmentBytes: number): Promise<void> {
  const { storage } = await openDiskStorage(dir, { segmentBytes });
  for (let i = 1; i <= 40; i += 4) await storage.save(hs(1, i - 1), ents(i, i + 3, 1, 100), true);
  await storage.close();
}

function edit(file: string, fn: (buf: Buffer) => Buffer): void {
  fs.writeFileSync(file, fn(fs.readFileSync(file)));
}

describe('disk raft storage: recovery from torn and corrupted logs', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => removeDir(dir));

  // The last record is the final batch's hardState; the one before, entry 8.
  const tears: Array<[string, (buf: Buffer, last: number, end: number) => Buffer]> = [
    ['file ends inside the length field', (b, last) => b.subarray(0, last + 2)],
    ['file ends inside the crc field', (b, last) => b.subarray(0, last + 6)],
    ['file ends inside the payload', (b, _last, end) => b.subarray(0, end - 3)],
    ['payload never reached the disk (zeros)', (b, last, end) => (b.fill(0, last + 9, end), b)],
    ['a flipped byte in the final record', (b, last) => ((b[last + 12] ^= 0x40), b)],
    ['garbage after the last good record', (b, last, end) => (b.fill(0xa5, last, end + 100), b)],
    ['length field claims more than the file holds', (b, last) => (b.writeUInt32LE(0x00ffffff, last), b)],
  ];
  for (const [what, tear] of tears) {
    it(`cuts off a torn final record and carries on: ${what}`, async () => {
      const file = await writeLog(dir);
      const { starts, end } = recordOffsets(fs.readFileSync(file));
      const last = starts.at(-1)!;
      edit(file, (b) => tear(b, last, end));

      const { storage, state } = await openDiskStorage(dir, { segmentBytes: SEG_BYTES });
      assert.deepEqual(show(state.entries), show(ents(1, 8, 1, 40)));
      assert.deepEqual(state.hardState, hs(1, 3), 'the torn hardState is gone; the one before it stands');
      assert.equal(state.warnings.length, 1);
      assert.match(state.warnings[0], new RegExp(`wal: cut off a torn record at ${SEG1} offset ${last} `));
      // The log continues after the cut, and a second restart is clean.
      await storage.save(hs(2, 9), ents(9, 9, 2), true);
      await storage.close();
      const again = await openDiskStorage(dir, { segmentBytes: SEG_BYTES });
      assert.deepEqual(again.state.entries.map((e) => e.index), [1, 2, 3, 4, 5, 6, 7, 8, 9]);
      assert.deepEqual(again.state.warnings, []);
      await again.storage.close();
    });
  }

  it('survives a tear at every byte of the final batch, keeping a prefix of it', async function () {
    this.timeout(30_000); // ~300 opens, each syncing directories: slow on a busy disk
    const file = await writeLog(dir);
    const original = fs.readFileSync(file);
    const { starts, end } = recordOffsets(original);
    const batchStart = starts[starts.length - 4]; // entries 6, 7, 8 and the hardState
    for (let cut = batchStart; cut < end; cut++) {
      const copy = Buffer.from(original);
      copy.fill(0, cut, end);
      fs.writeFileSync(file, copy);
      const { storage, state } = await openDiskStorage(dir, { segmentBytes: SEG_BYTES });
      const kept = starts.filter((s, i) => s >= batchStart && (starts[i + 1] ?? end) <= cut).length;
      assert.equal(state.entries.length, 5 + Math.min(kept, 3), `tear at ${cut}`);
      assert.equal(state.hardState.commit, kept === 4 ? 5 : 3, `tear at ${cut}`);
      await storage.close();
    }
  });

  it('treats a missing whole sector inside the final batch as a torn write even with valid records after it', async () => {
    const { storage } = await openDiskStorage(dir, { segmentBytes: SEG_BYTES });
    await storage.save(hs(1, 1), ents(1, 1, 1), true);
    // One batch spanning several sectors: a crash may persist its pages out of order.
    await storage.save(hs(1, 1), ents(2, 8, 1, 400), true);
    await storage.close();
    const file = path.join(dir, 'wal', SEG1);
    const { starts, end } = recordOffsets(fs.readFileSync(file));
    const endOf = (i: number) => starts[i + 1] ?? end;
    // Records are: header, entry 1, hardState, entries 2..8, hardState.
    const survivors = starts.filter((_s, i) => i >= 3 && i <= 9 && endOf(i) <= 1024).length;
    assert.ok(endOf(9) > 1536, 'valid records follow the lost sector');
    edit(file, (b) => b.fill(0, 1024, 1536));
    const { storage: s2, state } = await openDiskStorage(dir, { segmentBytes: SEG_BYTES });
    assert.equal(state.entries.length, 1 + survivors);
    assert.match(state.warnings[0], /cut off a torn record/);
    await s2.close();
  });

  it('refuses a checksum mismatch in the middle of the log, naming the file and offset', async () => {
    const file = await writeLog(dir);
    const { starts } = recordOffsets(fs.readFileSync(file));
    const victim = starts[3]; // header, entry 1, entry 2, entry 3 <- here
    edit(file, (b) => ((b[victim + 20] ^= 0x01), b));
    const damaged = fs.readFileSync(file);
    await assert.rejects(openDiskStorage(dir, { segmentBytes: SEG_BYTES }), {
      name: 'WalCorruptionError',
      message:
        `wal: corrupted record at ${SEG1} offset ${victim}: checksum mismatch (a valid record follows at offset ` +
        `${starts[4]}); the data directory is damaged — restore it from a backup or remove this manager and rejoin`,
    });
    // Refusing changed nothing: the damaged file is left as it was, for forensics.
    assert.ok(fs.readFileSync(file).equals(damaged));
  });

  it('refuses any damage in a segment that is not the last, even at its end', async () => {
    await writeMany(dir, 1024);
    const names = walFiles(dir);
    assert.ok(names.length >= 2);
    const first = path.join(dir, 'wal', names[0]);
    const { starts } = recordOffsets(fs.readFileSync(first));
    edit(first, (b) => ((b[starts.at(-1)! + 10] ^= 0x01), b));
    await assert.rejects(openDiskStorage(dir, { segmentBytes: 1024 }), {
      name: 'WalCorruptionError',
      message: new RegExp(`corrupted record at ${names[0]} offset ${starts.at(-1)}: checksum mismatch;`),
    });
  });

  it('refuses a log with a missing segment', async () => {
    await writeMany(dir, 1024);
    const names = walFiles(dir);
    assert.ok(names.length >= 3);
    fs.unlinkSync(path.join(dir, 'wal', names[1]));
    await assert.rejects(openDiskStorage(dir, { segmentBytes: 1024 }), {
      name: 'StorageRecoveryError',
      message: /wal: segment 0000000000000002 is missing between .*restore it from a backup/,
    });
  });

  it('ignores and removes a segment whose creation was interrupted (.tmp)', async () => {
    await writeLog(dir);
    fs.writeFileSync(path.join(dir, 'wal', '0000000000000002-0000000000000009.wal.tmp'), Buffer.alloc(100, 7));
    const { storage, state } = await openDiskStorage(dir, { segmentBytes: SEG_BYTES });
    assert.equal(state.entries.length, 8);
    assert.match(state.warnings[0], /removed 0000000000000002-0000000000000009\.wal\.tmp/);
    assert.deepEqual(walFiles(dir), [SEG1]);
    assert.ok(!walTmpFiles(dir).includes('0000000000000002-0000000000000009.wal.tmp'));
    await storage.close();
  });
});
