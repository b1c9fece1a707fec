// Snapshots on disk: atomic files, the log's markers, falling back from a
// damaged snapshot, and releasing the log below a snapshot.

import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { MemoryDisk, openDiskStorage, SnapshotFileBuffer, SNAPSHOTS_KEPT } from '../../src/index.js';
import { encodeSnapshot } from '../../src/storage/snap-file.js';
import { ents, hs, removeDir, show, snap, snapFiles, tempDir, walFiles } from './helpers.js';

const SEG_BYTES = 2048;
const open = (dir: string) => openDiskStorage(dir, { segmentBytes: SEG_BYTES });

describe('disk raft storage: snapshots', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => removeDir(dir));

  it('recovers a compaction snapshot with the entries after it', async () => {
    const { storage } = await open(dir);
    await storage.save(hs(1, 20), ents(1, 20, 1), true);
    await storage.saveSnapshot(snap(10, 1));
    await storage.close();
    assert.deepEqual(snapFiles(dir), ['0000000000000001-000000000000000a.snap']);
    const { storage: s2, state } = await open(dir);
    assert.deepEqual(state.snapshot, snap(10, 1));
    assert.deepEqual(show(state.entries), show(ents(11, 20, 1)));
    await s2.close();
  });

  it("writes an own compaction's file beside held log writes, and recovers it with every entry", async () => {
    // Log writes are held (as by a slow disk); the snapshot file must not wait behind them.
    let holding = false;
    const held: Array<() => void> = [];
    const walFds = new Set<number>();
    const fsAny = fs as unknown as Record<string, (...args: unknown[]) => unknown>;
    const hold = (name: string) => (fd: number, ...rest: unknown[]) => {
      const run = () => fsAny[name]!(fd, ...rest);
      if (holding && walFds.has(fd)) held.push(run);
      else run();
    };
    const gated = {
      ...fs,
      openSync: (file: string, ...rest: unknown[]) => {
        const fd = fsAny.openSync!(file, ...rest) as number;
        // The log's segments only: not the next one's preparation, whose closed fd numbers are reused.
        if (file.includes(`${path.sep}wal${path.sep}`) && file.endsWith('.wal')) walFds.add(fd);
        else walFds.delete(fd);
        return fd;
      },
      write: hold('write'),
      writev: hold('writev'),
    } as unknown as typeof fs;
    const { storage } = await openDiskStorage(dir, { segmentBytes: SEG_BYTES, fs: gated });
    await storage.save(hs(1, 20), ents(1, 20, 1), true);
    holding = true;
    const later = storage.save(hs(1, 22), ents(21, 22, 1), true);
    const saved = storage.saveSnapshot(snap(10, 1), { ownCompaction: true });
    const file = '0000000000000001-000000000000000a.snap';
    for (let i = 0; i < 200 && !snapFiles(dir).includes(file); i++) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(snapFiles(dir), [file], 'the file is written while the log write ahead of it is held');
    assert.equal(held.length, 1, 'the log write is still held');
    holding = false;
    for (const run of held.splice(0)) run();
    await Promise.all([later, saved]);
    await storage.releaseTo(10);
    await storage.close();
    const { storage: s2, state } = await open(dir);
    assert.deepEqual(state.snapshot, snap(10, 1));
    assert.deepEqual(show(state.entries), show(ents(11, 22, 1)));
    await s2.close();
  });

  it('saves a file built in place (its data written by the caller) as it saves any snapshot, and refuses other data', async () => {
    const { storage } = await open(dir);
    await storage.save(hs(1, 20), ents(1, 20, 1), true);
    const s = snap(10, 1);
    const file = new SnapshotFileBuffer(s.metadata.confState, s.data.length);
    file.data.set(s.data);
    assert.throws(() => file.seal(s), /the snapshot's data is not the data written into this file/);
    assert.throws(() => file.seal({ ...s, metadata: { ...s.metadata, confState: { voters: ['x'], learners: [] } }, data: file.data }), /members are not those/);
    await storage.saveSnapshot({ metadata: s.metadata, data: file.data }, { ownCompaction: true, file });
    await storage.close();
    assert.deepEqual(fs.readFileSync(path.join(dir, 'snap', '0000000000000001-000000000000000a.snap')), encodeSnapshot(s));
    const { storage: s2, state } = await open(dir);
    assert.deepEqual(state.snapshot, s);
    await s2.close();
  });

  it("drops the log a leader's snapshot replaces, including a stale suffix after it", async () => {
    const { storage } = await open(dir);
    await storage.save(hs(1, 5), ents(1, 20, 1), true); // 6..20 uncommitted, term 1
    await storage.saveSnapshot(snap(15, 3)); // the leader's log has term 3 at 15: ours conflicts
    await storage.save(hs(3, 15), ents(16, 17, 3), true);
    await storage.close();
    const { storage: s2, state } = await open(dir);
    assert.equal(state.snapshot?.metadata.index, 15);
    assert.deepEqual(show(state.entries), show(ents(16, 17, 3)));
    await s2.close();

    // And a snapshot beyond the end of the log leaves no entries at all.
    const { storage: s3 } = await open(dir);
    await s3.saveSnapshot(snap(100, 4));
    await s3.save(hs(4, 100), [], true);
    await s3.close();
    const { storage: s4, state: after } = await open(dir);
    assert.equal(after.snapshot?.metadata.index, 100);
    assert.deepEqual(after.entries, []);
    await s4.close();
  });

  it('ignores a leftover .tmp from an interrupted snapshot save (atomicity)', async () => {
    const { storage } = await open(dir);
    await storage.save(hs(1, 10), ents(1, 10, 1), true);
    await storage.saveSnapshot(snap(5, 1));
    await storage.close();
    // A crash mid-write of the next snapshot: half a file under the temp name.
    const tmp = path.join(dir, 'snap', '0000000000000001-0000000000000009.snap.tmp');
    fs.writeFileSync(tmp, Buffer.alloc(10, 0x55));
    const { storage: s2, state } = await open(dir);
    assert.equal(state.snapshot?.metadata.index, 5);
    assert.deepEqual(state.entries.map((e) => e.index), [6, 7, 8, 9, 10]);
    assert.match(state.warnings.join('\n'), /removed 0000000000000001-0000000000000009\.snap\.tmp/);
    assert.ok(!fs.existsSync(tmp));
    await s2.close();
  });

  it('ignores and removes a snapshot file the log never recorded (crash between the file and its marker)', async () => {
    const { storage } = await open(dir);
    await storage.save(hs(1, 10), ents(1, 10, 1), true);
    await storage.close();
    // Plant a whole, valid file as saveSnapshot would have written it, without the marker.
    const planted = await openDiskStorage(path.join(dir, 'other'));
    await planted.storage.save(hs(1, 10), ents(1, 10, 1), true);
    await planted.storage.saveSnapshot(snap(8, 1));
    await planted.storage.close();
    fs.copyFileSync(path.join(dir, 'other', 'snap', '0000000000000001-0000000000000008.snap'), path.join(dir, 'snap', '0000000000000001-0000000000000008.snap'));
    const { storage: s2, state } = await open(dir);
    assert.equal(state.snapshot, undefined);
    assert.equal(state.entries.length, 10);
    assert.match(state.warnings[0], /0000000000000001-0000000000000008\.snap is not recorded in the log \(interrupted save\); removed/);
    assert.deepEqual(snapFiles(dir), []);
    await s2.close();
  });

  it('falls back to an older snapshot when the newest is damaged and the log still covers the older', async () => {
    const { storage } = await open(dir);
    await storage.save(hs(1, 30), ents(1, 30, 1), true);
    await storage.saveSnapshot(snap(10, 1));
    await storage.saveSnapshot(snap(20, 1));
    await storage.close();
    const newest = path.join(dir, 'snap', '0000000000000001-0000000000000014.snap');
    const bytes = fs.readFileSync(newest);
    bytes[bytes.length - 1] ^= 0xff;
    fs.writeFileSync(newest, bytes);
    const { storage: s2, state } = await open(dir);
    assert.equal(state.snapshot?.metadata.index, 10);
    assert.deepEqual(show(state.entries), show(ents(11, 30, 1)));
    assert.match(state.warnings.join('\n'), /snapshot 0000000000000001-0000000000000014\.snap is damaged \(checksum mismatch\)/);
    await s2.close();
  });

  it('refuses to start when the newest snapshot is damaged and the log no longer covers an older one', async () => {
    const { storage } = await open(dir);
    for (let i = 1; i <= 120; i += 10) await storage.save(hs(1, i + 9), ents(i, i + 9, 1, 60), true);
    await storage.saveSnapshot(snap(50, 1));
    await storage.saveSnapshot(snap(100, 1));
    await storage.releaseTo(100);
    await storage.close();
    const newest = path.join(dir, 'snap', '0000000000000001-0000000000000064.snap');
    fs.writeFileSync(newest, fs.readFileSync(newest).subarray(0, 20));
    await assert.rejects(open(dir), {
      name: 'StorageRecoveryError',
      message:
        /no usable snapshot for the log in .*0000000000000001-0000000000000064\.snap is damaged: .*0000000000000001-0000000000000032\.snap cannot be used: .*restore it from a backup or remove this manager and rejoin/,
    });
  });

  it('releases segments wholly below the snapshot and old snapshot files, and reopens after', async () => {
    const { storage } = await open(dir);
    for (let i = 1; i <= 200; i += 10) await storage.save(hs(1, i + 9), ents(i, i + 9, 1, 60), true);
    const before = walFiles(dir);
    assert.ok(before.length >= 6, `segments: ${before.length}`);
    for (const at of [40, 80, 120, 160]) await storage.saveSnapshot(snap(at, 1));
    await storage.releaseTo(160);
    const after = walFiles(dir);
    assert.ok(after.length < before.length);
    // Every segment left holds entries above 160, except at most the first that reaches it.
    const firstIndexes = after.map((n) => parseInt(n.split('-')[1], 16));
    assert.ok(firstIndexes[0] <= 161 && (firstIndexes[1] ?? Infinity) > 161);
    assert.equal(snapFiles(dir).length, SNAPSHOTS_KEPT);
    assert.deepEqual(snapFiles(dir), ['0000000000000001-0000000000000078.snap', '0000000000000001-00000000000000a0.snap']);
    await storage.save(hs(2, 201), ents(201, 205, 2, 60), true);
    await storage.close();

    const { storage: s2, state } = await open(dir);
    assert.equal(state.snapshot?.metadata.index, 160);
    assert.deepEqual(show(state.entries), show([...ents(161, 200, 1, 60), ...ents(201, 205, 2, 60)]));
    assert.deepEqual(state.hardState, hs(2, 201));
    await s2.close();
  });

  it('keeps the hardState and snapshot marker when the segments that wrote them are released', async () => {
    const { storage } = await open(dir);
    await storage.save(hs(5, 0, 'node-c'), [], true);
    for (let i = 1; i <= 100; i += 10) await storage.save(undefined, ents(i, i + 9, 5, 60), true);
    await storage.saveSnapshot(snap(100, 5));
    for (let i = 101; i <= 150; i += 10) await storage.save(undefined, ents(i, i + 9, 5, 60), true);
    await storage.releaseTo(100);
    await storage.close();
    const { storage: s2, state } = await open(dir);
    // Term and vote survive; commit is raised to the snapshot's index (see the next test).
    assert.deepEqual(state.hardState, hs(5, 100, 'node-c'));
    assert.equal(state.snapshot?.metadata.index, 100);
    assert.equal(state.entries[0].index, 101);
    await s2.close();
  });

  it('raises commit to a durable snapshot whose commit-raising hard state was never synced (sim seed 145)', async () => {
    const disk = new MemoryDisk();
    const { storage } = disk.open();
    await storage.save(hs(2, 25, 'node-a'), ents(1, 25, 2), true);
    await storage.saveSnapshot(snap(40, 2)); // a leader's snapshot, durable at once
    await storage.save(hs(2, 40, 'node-a'), [], false); // its commit, not synced…
    disk.crash(); // …and lost
    const { state } = disk.open();
    assert.equal(state.snapshot?.metadata.index, 40);
    assert.equal(state.hardState.commit, 40);
  });

  it('refuses to release past the newest snapshot, and stays usable', async () => {
    const { storage } = await open(dir);
    await storage.save(hs(1, 10), ents(1, 10, 1), true);
    await storage.saveSnapshot(snap(5, 1));
    await assert.rejects(storage.releaseTo(8), /cannot release the log to 8: the newest saved snapshot is at 5/);
    await storage.save(undefined, ents(11, 11, 1), true);
    await storage.close();
  });
});
