// The write path of the on-disk storage: what is saved comes back after a
// restart, in the shape the core's MemoryStorage loads.

import assert from 'node:assert/strict';
import { openDiskStorage } from '../../src/index.js';
import { countingFs, ents, hs, removeDir, show, tempDir, walFiles } from './helpers.js';

describe('disk raft storage: write and read back', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => removeDir(dir));

  it('starts empty in a new directory, with one segment', async () => {
    const { storage, state } = await openDiskStorage(dir);
    assert.deepEqual(state, { hardState: { term: 0, vote: '', commit: 0 }, snapshot: undefined, entries: [], warnings: [] });
    assert.deepEqual(walFiles(dir), ['0000000000000001-0000000000000001.wal']);
    await storage.close();
  });

  it('round-trips hardState and entries across a restart', async () => {
    let { storage } = await openDiskStorage(dir);
    await storage.save(hs(1, 0), ents(1, 3, 1), true);
    await storage.save(hs(2, 3, 'node-b'), ents(4, 5, 2), true);
    await storage.save(hs(2, 5, 'node-b'), [], false); // commit-only: need not sync
    await storage.close();

    const reopened = await openDiskStorage(dir);
    assert.deepEqual(reopened.state.hardState, { term: 2, vote: 'node-b', commit: 5 });
    assert.deepEqual(show(reopened.state.entries), show([...ents(1, 3, 1), ...ents(4, 5, 2)]));
    assert.deepEqual(reopened.state.warnings, []);
    storage = reopened.storage;
    // ...and the log continues where it stopped.
    await storage.save(hs(2, 5, 'node-b'), ents(6, 6, 2), true);
    await storage.close();
    const again = await openDiskStorage(dir);
    assert.deepEqual(
      again.state.entries.map((e) => e.index),
      [1, 2, 3, 4, 5, 6],
    );
    await again.storage.close();
  });

  it('lets a later entry at index i replace everything from i on (a new leader overwrites a suffix)', async () => {
    const { storage } = await openDiskStorage(dir);
    await storage.save(hs(1, 2), ents(1, 6, 1), true);
    await storage.save(hs(2, 2), ents(4, 5, 2), true); // conflicts at 4: 4..6 of term 1 are gone
    await storage.save(undefined, ents(6, 7, 2), true);
    await storage.save(hs(3, 2), ents(3, 3, 3), true); // and again at 3
    await storage.close();
    const { storage: s2, state } = await openDiskStorage(dir);
    assert.deepEqual(show(state.entries), show([...ents(1, 2, 1), ...ents(3, 3, 3)]));
    await s2.close();
  });

  it('rolls over to a new segment at the size bound, and reads across segments', async () => {
    const { storage } = await openDiskStorage(dir, { segmentBytes: 4096 });
    for (let i = 1; i <= 200; i += 4) await storage.save(hs(1, i - 1), ents(i, i + 3, 1, 100), true);
    const cut = storage.stats().segmentsCut;
    assert.ok(cut >= 5, `expected several segments, got ${cut + 1}`);
    const names = walFiles(dir);
    assert.equal(names.length, cut + 1);
    // seq counts up from 1; firstIndex is one past the last index at the cut.
    assert.match(names[1], /^0000000000000002-[0-9a-f]{16}\.wal$/);
    assert.ok(names.every((n, i) => n.startsWith((i + 1).toString(16).padStart(16, '0'))));
    await storage.close();
    const { storage: s2, state } = await openDiskStorage(dir, { segmentBytes: 4096 });
    assert.deepEqual(show(state.entries), show(ents(1, 200, 1, 100)));
    assert.equal(state.hardState.commit, 196);
    await s2.close();
  });

  it('syncs when mustSync and not otherwise (fdatasync method)', async () => {
    const { fs, counts } = countingFs();
    const { storage } = await openDiskStorage(dir, { fs, syncMethod: 'fdatasync' });
    await storage.save(hs(1, 0), ents(1, 1, 1), true);
    assert.equal(counts.fdatasync, 1);
    await storage.save(hs(1, 1), [], false);
    assert.equal(counts.fdatasync, 1, 'a commit-only save needs no sync');
    await storage.save(undefined, ents(2, 2, 1), true);
    assert.equal(counts.fdatasync, 2);
    assert.equal(counts.dsyncWrites, 0);
    await storage.close();
  });

  it('syncs when mustSync through an O_DSYNC write (dsync method), falling back to fdatasync after unsynced bytes', async () => {
    const { fs, counts } = countingFs();
    const { storage } = await openDiskStorage(dir, { fs, syncMethod: 'dsync' });
    await storage.save(hs(1, 0), ents(1, 1, 1), true);
    assert.deepEqual([counts.dsyncWrites, counts.fdatasync], [1, 0]);
    await storage.save(hs(1, 1), [], false);
    assert.deepEqual([counts.dsyncWrites, counts.plainWrites, counts.fdatasync], [1, 0, 0], 'a commit-only save is held for the next write');
    // ...which carries it in the same O_DSYNC write: one disk round trip.
    await storage.save(undefined, ents(2, 2, 1), true);
    assert.deepEqual([counts.dsyncWrites, counts.plainWrites, counts.fdatasync], [2, 0, 0]);
    // O_DSYNC covers only its own bytes; unsynced bytes written before need fdatasync.
    await storage.save(hs(1, 2), [], false);
    await storage.releaseTo(0); // any other operation writes what is held first
    assert.deepEqual([counts.dsyncWrites, counts.plainWrites, counts.fdatasync], [2, 1, 0]);
    await storage.save(undefined, ents(3, 3, 1), true);
    assert.deepEqual([counts.dsyncWrites, counts.plainWrites, counts.fdatasync], [2, 2, 1]);
    await storage.save(undefined, ents(4, 4, 1), true);
    assert.deepEqual([counts.dsyncWrites, counts.fdatasync], [3, 1]);
    assert.equal(storage.stats().syncs, 4);
    await storage.close();
    const { storage: s2, state } = await openDiskStorage(dir);
    assert.deepEqual(state.hardState, hs(1, 2));
    assert.deepEqual(state.entries.map((e) => e.index), [1, 2, 3, 4]);
    await s2.close();
  });

  it('writes a held commit-only save on close', async () => {
    const { storage } = await openDiskStorage(dir);
    await storage.save(hs(1, 0), ents(1, 2, 1), true);
    await storage.save(hs(1, 2), [], false);
    await storage.close();
    const { storage: s2, state } = await openDiskStorage(dir);
    assert.deepEqual(state.hardState, hs(1, 2));
    await s2.close();
  });

  it('groups saves queued behind a busy disk into one write and one sync (group commit)', async () => {
    const { fs, counts } = countingFs();
    const { storage } = await openDiskStorage(dir, { fs, syncMethod: 'fdatasync' });
    const pending = [];
    for (let i = 1; i <= 64; i++) pending.push(storage.save(hs(1, i - 1), ents(i, i, 1), true));
    await Promise.all(pending);
    assert.equal(counts.fdatasync, 1);
    assert.equal(storage.stats().writes, 1);
    // While a write is in flight, later saves queue up and go out together.
    const first = storage.save(undefined, ents(65, 65, 1), true);
    await Promise.resolve(); // the worker has taken the first save
    const rest = [];
    for (let i = 66; i <= 80; i++) rest.push(storage.save(undefined, ents(i, i, 1), true));
    await Promise.all([first, ...rest]);
    assert.equal(counts.fdatasync, 3);
    await storage.close();
    const { storage: s2, state } = await openDiskStorage(dir);
    assert.equal(state.entries.length, 80);
    await s2.close();
  });

  it('copies entry data on save: the caller may reuse its buffers at once', async () => {
    const { storage } = await openDiskStorage(dir);
    const batch = ents(1, 2, 1);
    const p = storage.save(hs(1, 0), batch, true);
    batch[0].data.fill(0x21);
    await p;
    await storage.close();
    const { storage: s2, state } = await openDiskStorage(dir);
    assert.deepEqual(show(state.entries), show(ents(1, 2, 1)));
    await s2.close();
  });

  it('fails for good after a sync error, and says what to do', async () => {
    const { fs, failFdatasync } = countingFs();
    const { storage } = await openDiskStorage(dir, { fs, syncMethod: 'fdatasync' });
    await storage.save(hs(1, 0), ents(1, 1, 1), true);
    failFdatasync('EIO');
    await assert.rejects(storage.save(undefined, ents(2, 2, 1), true), {
      name: 'StorageWriteError',
      message: /wal: writing 0000000000000001-0000000000000001\.wal failed \(EIO\).*stop this node/,
    });
    failFdatasync(undefined);
    // fsyncgate: no retry — the storage stays failed.
    await assert.rejects(storage.save(undefined, ents(2, 2, 1), true), { name: 'StorageWriteError' });
    await storage.close();
  });

  it('refuses entries that are not contiguous or leave a hole, without failing the storage', async () => {
    const { storage } = await openDiskStorage(dir);
    await assert.rejects(storage.save(undefined, [...ents(1, 1, 1), ...ents(3, 3, 1)], true), /must be contiguous/);
    await assert.rejects(storage.save(undefined, ents(2, 2, 1), true), /start at index 2 but the log ends at 0; that would leave a hole/);
    await storage.save(undefined, ents(1, 1, 1), true);
    await storage.close();
    await assert.rejects(storage.save(undefined, ents(2, 2, 1), true), { name: 'StorageClosedError' });
  });
});
