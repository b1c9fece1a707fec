// The simulator's disk model: what a crash may keep. This is the contract the
// simulator holds the Raft core to, so it is tested on its own.

import assert from 'node:assert/strict';
import type { Entry } from '../../src/core/types.js';
import { Rng } from './rng.js';
import { SimDisk } from './simDisk.js';

const ent = (index: number, term: number): Entry => ({ index, term, type: 'normal', data: new Uint8Array([index]) });
const hs = (term: number, commit: number) => ({ term, vote: 'n1', commit });

describe('SimDisk: durable vs unsynced writes', () => {
  it('keeps synced writes across a crash', () => {
    const d = new SimDisk();
    d.write(undefined, [ent(1, 1), ent(2, 1)], hs(1, 2));
    d.sync();
    d.crash(new Rng(1), true);
    const s = d.toLiveStorage();
    assert.equal(s.lastIndex(), 2);
    assert.deepEqual(s.initialState().hardState, hs(1, 2));
  });

  it('loses unsynced writes on a crash without torn writes', () => {
    const d = new SimDisk();
    d.write(undefined, [ent(1, 1)], hs(1, 1));
    d.sync();
    d.write(undefined, [ent(2, 2), ent(3, 2)], hs(2, 1));
    assert.equal(d.crash(new Rng(1), false), 0);
    const s = d.toLiveStorage();
    assert.equal(s.lastIndex(), 1);
    assert.equal(s.initialState().hardState.term, 1);
  });

  it('keeps only a prefix of unsynced writes when the last write is torn', () => {
    // Over many crashes, every prefix length shows up, and never a gap:
    // entries survive in order and the HardState only after all of them.
    const seen = new Set<number>();
    for (let seed = 1; seed <= 200; seed++) {
      const d = new SimDisk();
      d.write(undefined, [ent(1, 1), ent(2, 1), ent(3, 1)], hs(1, 3));
      const kept = d.crash(new Rng(seed), true);
      seen.add(kept);
      const s = d.toLiveStorage();
      assert.equal(s.lastIndex(), Math.min(kept, 3));
      assert.equal(s.initialState().hardState.term, kept === 4 ? 1 : 0);
    }
    assert.deepEqual([...seen].sort(), [0, 1, 2, 3, 4]);
  });

  it('replays truncation of a conflicting suffix like the live log', () => {
    const d = new SimDisk();
    d.write(undefined, [ent(1, 1), ent(2, 1), ent(3, 1)], undefined);
    d.write(undefined, [ent(2, 2)], undefined);
    d.sync();
    const s = d.toLiveStorage();
    assert.equal(s.lastIndex(), 2);
    assert.equal(s.term(2), 2);
  });

  it('restarts from a saved snapshot with the log after it', () => {
    const d = new SimDisk();
    d.write(undefined, [1, 2, 3, 4, 5].map((i) => ent(i, 1)), hs(1, 5));
    d.saveSnapshot(4, { voters: ['n1'], learners: [] }, new Uint8Array([9]), 3);
    const s = d.toLiveStorage();
    assert.equal(s.snapshot().metadata.index, 4);
    assert.deepEqual(s.snapshot().data, new Uint8Array([9]));
    assert.equal(s.firstIndex(), 5);
    assert.equal(s.lastIndex(), 5);
  });
});
