// Inline saves: a follower's small synced write done on the calling thread, durable when
// save() returns, and the cases that must still go through the queue.
import assert from 'node:assert/strict';
import { ALREADY_DURABLE, INLINE_MAX_BYTES, openDiskStorage } from '../../src/index.js';
import { countingFs, ents, hs, removeDir, show, tempDir } from './helpers.js';

describe('disk raft storage: inline saves', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => removeDir(dir));

  it('writes a small synced save on the calling thread in one O_DSYNC write, durable when save returns', async () => {
    const { fs, counts } = countingFs();
    const { storage } = await openDiskStorage(dir, { fs });
    const before = { ...counts };
    const saved = storage.save(hs(1, 0), ents(1, 2, 1), true, { inline: true });
    assert.equal(saved, ALREADY_DURABLE);
    assert.equal(counts.inlineWrites - before.inlineWrites, 1);
    assert.equal(counts.dsyncWrites - before.dsyncWrites, 0, 'no thread-pool write');
    assert.equal(counts.fdatasync - before.fdatasync, 0);
    assert.equal(storage.stats().syncs, 1);
    await storage.close();
    const reopened = await openDiskStorage(dir);
    assert.deepEqual(show(reopened.state.entries), show(ents(1, 2, 1)));
    await reopened.storage.close();
  });

  it('writes held commit-only records in front of the inline save', async () => {
    const { storage } = await openDiskStorage(dir);
    await storage.save(hs(1, 0), ents(1, 2, 1), true);
    await storage.save(hs(1, 2), [], false); // held, not written
    assert.equal(storage.save(undefined, ents(3, 3, 1), true, { inline: true }), ALREADY_DURABLE);
    // Gone without close(): only what was synced survives, and the held record was.
    const reopened = await openDiskStorage(dir);
    assert.deepEqual(reopened.state.hardState, hs(1, 2));
    assert.deepEqual(reopened.state.entries.map((e) => e.index), [1, 2, 3]);
    await Promise.all([storage.close(), reopened.storage.close()]);
  });

  it('queues the save instead behind a write in flight, past INLINE_MAX_BYTES, or when it need not sync', async () => {
    const { fs, counts } = countingFs();
    const { storage } = await openDiskStorage(dir, { fs });
    const first = storage.save(hs(1, 0), ents(1, 1, 1), true);
    const behind = storage.save(undefined, ents(2, 2, 1), true, { inline: true });
    assert.notEqual(behind, ALREADY_DURABLE, 'a write is queued before it: order first');
    await Promise.all([first, behind]);
    const large = storage.save(undefined, ents(3, 3, 1, INLINE_MAX_BYTES + 1), true, { inline: true });
    assert.notEqual(large, ALREADY_DURABLE);
    await large;
    const unsynced = storage.save(hs(1, 3), [], false, { inline: true });
    assert.notEqual(unsynced, ALREADY_DURABLE);
    await unsynced;
    assert.equal(counts.inlineWrites, 0);
    await storage.close();
    const reopened = await openDiskStorage(dir);
    assert.deepEqual(reopened.state.entries.map((e) => e.index), [1, 2, 3]);
    await reopened.storage.close();
  });

  it('fails the storage for good when the inline write fails', async () => {
    const { fs, failWritevSync } = countingFs();
    const { storage } = await openDiskStorage(dir, { fs });
    failWritevSync('EIO');
    await assert.rejects(storage.save(hs(1, 0), ents(1, 1, 1), true, { inline: true }), {
      name: 'StorageWriteError',
      message: /wal: writing 0000000000000001-0000000000000001\.wal failed \(EIO\).*stop this node/,
    });
    failWritevSync(undefined);
    await assert.rejects(storage.save(hs(1, 0), ents(1, 1, 1), true), { name: 'StorageWriteError' });
    await storage.close();
  });
});
