// The in-memory storage the simulator uses: crash semantics (what survives
// a power loss), torn writes, and agreement with the disk storage and with
// the core's MemoryStorage as the model of the log.

import assert from 'node:assert/strict';
import { MemoryDisk, MemoryStorage, openDiskStorage, type Entry, type RaftStorage, type RecoveredState } from '../../src/index.js';
import { ents, hs, removeDir, show, snap, tempDir } from './helpers.js';

describe('memory raft storage', () => {
  it('round-trips across close and open, like the disk', async () => {
    const disk = new MemoryDisk();
    const { storage, state } = disk.open();
    assert.deepEqual(state, { hardState: { term: 0, vote: '', commit: 0 }, snapshot: undefined, entries: [], warnings: [] });
    await storage.save(hs(1, 2), ents(1, 5, 1), true);
    await storage.save(hs(2, 3), ents(4, 6, 2), false);
    await storage.close();
    const again = disk.open().state;
    assert.deepEqual(again.hardState, hs(2, 3));
    assert.deepEqual(show(again.entries), show([...ents(1, 3, 1), ...ents(4, 6, 2)]));
  });

  it('loses everything not synced when it crashes', () => {
    const disk = new MemoryDisk();
    const { storage } = disk.open();
    void storage.save(hs(1, 2), ents(1, 3, 1), true);
    void storage.save(hs(1, 3), ents(4, 5, 1), false);
    void storage.save(hs(1, 5), [], false);
    assert.ok(disk.unsyncedBytes() > 0);
    disk.crash();
    const { state } = disk.open();
    assert.deepEqual(state.hardState, hs(1, 2));
    assert.deepEqual(state.entries.map((e) => e.index), [1, 2, 3]);
    assert.deepEqual(state.warnings, []);
  });

  it('keeps the synced state when a sync follows unsynced writes', () => {
    const disk = new MemoryDisk();
    const { storage } = disk.open();
    void storage.save(hs(1, 0), ents(1, 2, 1), false);
    void storage.save(undefined, ents(3, 3, 1), true); // a sync covers every write before it
    disk.crash();
    assert.deepEqual(disk.open().state.entries.map((e) => e.index), [1, 2, 3]);
  });

  it('with tornWrite keeps half of the last unsynced record, which recovery cuts off', () => {
    const disk = new MemoryDisk();
    const { storage } = disk.open();
    void storage.save(hs(1, 1), ents(1, 1, 1), true);
    void storage.save(hs(1, 3), ents(2, 4, 1), false); // entries 2..4, then the hardState record
    disk.crash({ tornWrite: true });
    const { state } = disk.open();
    assert.deepEqual(state.entries.map((e) => e.index), [1, 2, 3, 4]);
    assert.deepEqual(state.hardState, hs(1, 1));
    assert.match(state.warnings[0], /wal: cut off a torn record at 0000000000000001-0000000000000001\.wal offset \d+ \(/);
  });

  it('recovers a prefix of the unsynced writes whatever prefix of their bytes survives', async () => {
    const write = (disk: MemoryDisk) => {
      const { storage } = disk.open();
      void storage.save(hs(1, 1), ents(1, 1, 1), true);
      void storage.save(hs(1, 1), ents(2, 3, 1, 30), false);
      void storage.save(hs(2, 3), ents(3, 5, 2, 30), false);
    };
    const probe = new MemoryDisk();
    write(probe);
    const total = probe.unsyncedBytes();
    const seen = new Set<string>();
    for (let keep = 0; keep <= total; keep++) {
      const disk = new MemoryDisk();
      write(disk);
      disk.crash({ keepUnsyncedBytes: keep });
      const { storage, state } = disk.open();
      const got = show(state.entries).join(' ');
      const full = [...ents(1, 1, 1), ...ents(2, 2, 1, 30), ...ents(3, 5, 2, 30)];
      const prefixes = [show(ents(1, 1, 1)), show([...ents(1, 1, 1), ...ents(2, 3, 1, 30)])];
      for (let n = 1; n <= 5; n++) prefixes.push(show(full.slice(0, n)));
      assert.ok(prefixes.some((p) => p.join(' ') === got), `keep=${keep}: ${got}`);
      seen.add(got);
      // ...and the recovered log takes new writes that a second restart sees.
      const next = state.entries.length + 1;
      await storage.save(hs(3, 1), ents(next, next, 3), true);
      disk.crash();
      const after = disk.open().state;
      assert.deepEqual(after.entries.map((e) => e.index).at(-1), next, `keep=${keep}`);
      assert.deepEqual(after.warnings, [], `keep=${keep}`);
    }
    assert.ok(seen.size >= 5, 'tears at different bytes give different prefixes');
  });

  it('kills the handle on crash, and refuses a second open', async () => {
    const disk = new MemoryDisk();
    const { storage } = disk.open();
    assert.throws(() => disk.open(), /already open/);
    disk.crash();
    await assert.rejects(storage.save(hs(1, 0), [], true), { name: 'StorageClosedError' });
  });

  it('fails a write on request, as a disk error would, and the next process recovers what was written', async () => {
    const disk = new MemoryDisk();
    const { storage } = disk.open();
    await storage.save(hs(1, 0), ents(1, 2, 1), false);
    disk.failNextWrite('ENOSPC');
    await assert.rejects(storage.save(undefined, ents(3, 3, 1), true), { name: 'StorageWriteError', message: /ENOSPC/ });
    await assert.rejects(storage.save(undefined, ents(3, 3, 1), true), { name: 'StorageClosedError' });
    // The process died, the machine did not: the OS still had entries 1..2.
    assert.deepEqual(disk.open().state.entries.map((e) => e.index), [1, 2]);
  });

  it('cuts segments, releases them below a snapshot and keeps two snapshots', async () => {
    const disk = new MemoryDisk({ segmentBytes: 1024 });
    const { storage } = disk.open();
    for (let i = 1; i <= 100; i += 5) await storage.save(hs(1, i + 4), ents(i, i + 4, 1, 50), true);
    const before = disk.segmentNames().length;
    for (const at of [30, 60, 90]) await storage.saveSnapshot(snap(at, 1));
    await storage.releaseTo(90);
    assert.ok(disk.segmentNames().length < before);
    assert.deepEqual(disk.snapshotNames(), ['0000000000000001-000000000000003c.snap', '0000000000000001-000000000000005a.snap']);
    await storage.close();
    const { state } = disk.open();
    assert.equal(state.snapshot?.metadata.index, 90);
    assert.deepEqual(show(state.entries), show(ents(91, 100, 1, 50)));
  });

  it('falls back to the older snapshot when the newest rots and the log still covers it', async () => {
    const disk = new MemoryDisk();
    const { storage } = disk.open();
    await storage.save(hs(1, 30), ents(1, 30, 1), true);
    await storage.saveSnapshot(snap(10, 1));
    await storage.saveSnapshot(snap(20, 1));
    await storage.close();
    disk.damageSnapshot(20);
    const { state } = disk.open();
    assert.equal(state.snapshot?.metadata.index, 10);
    assert.equal(state.entries[0].index, 11);
    assert.match(state.warnings[0], /0000000000000001-0000000000000014\.snap is damaged/);
  });
});

describe('memory and disk storages agree with the core log model', function () {
  this.timeout(10_000); // every snapshot and segment cut costs the disk storage a few fsyncs
  let dir: string;
  beforeEach(() => (dir = tempDir()));
  afterEach(() => removeDir(dir));

  for (const seed of [1, 2, 3, 4, 5]) {
    it(`replays a random history the same way (seed ${seed})`, async () => {
      const rng = lcg(seed);
      const disk = await openDiskStorage(dir, { segmentBytes: 4096 });
      const mem = new MemoryDisk({ segmentBytes: 4096 });
      const both: RaftStorage[] = [disk.storage, mem.open().storage];
      const model = new MemoryStorage();
      let term = 1;
      let commit = 0;
      for (let step = 0; step < 300; step++) {
        const last = model.lastIndex();
        const r = rng();
        if (r < 0.7) {
          // Append, sometimes overwriting an uncommitted suffix with a newer term.
          const from = rng() < 0.2 && last > commit ? commit + 1 + Math.floor(rng() * (last - commit)) : last + 1;
          if (from <= last) term++;
          const batch = ents(from, from + Math.floor(rng() * 4), term, Math.floor(rng() * 80));
          commit = Math.min(from + batch.length - 1, commit + Math.floor(rng() * 3));
          model.append(batch);
          model.setHardState(hs(term, commit));
          for (const s of both) await s.save(hs(term, commit), batch, rng() < 0.8);
        } else if (r < 0.85 && commit > model.snapshot().metadata.index) {
          // Compaction at the commit index.
          const s = model.createSnapshot(commit, undefined, new Uint8Array(Buffer.from(`at${commit}`)));
          for (const st of both) await st.saveSnapshot(s);
          if (rng() < 0.5) for (const st of both) await st.releaseTo(s.metadata.index);
        } else if (r < 0.9) {
          // A leader's snapshot past our log replaces it.
          term++;
          const at = last + 1 + Math.floor(rng() * 5);
          const s = snap(at, term);
          model.applySnapshot(s);
          commit = at;
          model.setHardState(hs(term, commit));
          for (const st of both) {
            await st.saveSnapshot(s);
            await st.save(hs(term, commit), [], true);
          }
        }
      }
      for (const s of both) await s.close();
      const fromDisk = (await openDiskStorage(dir, { segmentBytes: 4096 })).state;
      const fromMem = mem.open().state;
      const expected = expectedState(model);
      assert.deepEqual(summary(fromDisk), expected);
      assert.deepEqual(summary(fromMem), expected);
    });
  }
});

function expectedState(model: MemoryStorage): object {
  const snapIndex = model.snapshot().metadata.index;
  const entries: Entry[] = model.lastIndex() > snapIndex ? model.entries(snapIndex + 1, model.lastIndex() + 1, Infinity) : [];
  return { hardState: model.initialState().hardState, snapIndex, entries: show(entries.filter((e) => e.index > snapIndex)) };
}

function summary(state: RecoveredState): object {
  return { hardState: state.hardState, snapIndex: state.snapshot?.metadata.index ?? 0, entries: show(state.entries) };
}

/** A small deterministic generator (numbers in [0, 1)). */
function lcg(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 0x1_0000_0000;
  };
}
