// MemoryStorage contract (like etcd's storage_test.go).
import assert from 'node:assert/strict';
import { CompactedError, decodeConfChange, encodeConfChange, Entry, MemoryStorage, SnapOutOfDateError, UnavailableError } from '../../src/index.js';

const e = (index: number, term: number): Entry => ({ index, term, type: 'normal', data: new Uint8Array([index]) });

function storage(): MemoryStorage {
  const s = new MemoryStorage();
  s.append([e(1, 1), e(2, 1), e(3, 2), e(4, 2), e(5, 3)]);
  return s;
}

describe('raft core: MemoryStorage', () => {
  it('reports first/last index and terms; out-of-range terms throw', () => {
    const s = storage();
    assert.equal(s.firstIndex(), 1);
    assert.equal(s.lastIndex(), 5);
    assert.equal(s.term(0), 0);
    assert.equal(s.term(3), 2);
    assert.throws(() => s.term(6), UnavailableError);
  });

  it('entries(lo, hi, maxBytes) returns [lo, hi) limited by size but at least one', () => {
    const s = storage();
    assert.deepEqual(s.entries(2, 5, Infinity).map((x) => x.index), [2, 3, 4]);
    assert.deepEqual(s.entries(2, 5, 0).map((x) => x.index), [2]);
    assert.deepEqual(s.entries(2, 5, 34).map((x) => x.index), [2, 3]);
    assert.throws(() => s.entries(2, 7, Infinity), UnavailableError);
  });

  it('append truncates a conflicting suffix and rejects gaps', () => {
    const s = storage();
    s.append([e(4, 4), e(5, 4), e(6, 4)]);
    assert.deepEqual([4, 5, 6].map((i) => s.term(i)), [4, 4, 4]);
    s.append([e(3, 5)]);
    assert.equal(s.lastIndex(), 3);
    assert.throws(() => s.append([e(5, 5)]), /missing log entry/);
  });

  it('snapshot, compact and applySnapshot', () => {
    const s = storage();
    const cs = { voters: ['a'], learners: [] };
    const snap = s.createSnapshot(3, cs, new Uint8Array([9]));
    assert.deepEqual(snap.metadata, { index: 3, term: 2, confState: cs });
    assert.throws(() => s.createSnapshot(2, cs, new Uint8Array()), SnapOutOfDateError);
    s.compact(3);
    assert.equal(s.firstIndex(), 4);
    assert.equal(s.term(3), 2);
    assert.throws(() => s.term(2), CompactedError);
    assert.throws(() => s.entries(3, 5, Infinity), CompactedError);
    assert.deepEqual(s.initialState().confState, cs);
    s.applySnapshot({ metadata: { index: 10, term: 4, confState: cs }, data: new Uint8Array() });
    assert.equal(s.firstIndex(), 11);
    assert.equal(s.lastIndex(), 10);
    assert.equal(s.term(10), 4);
  });

  it('conf changes round-trip through their entry encoding', () => {
    const cc = { type: 'addLearner' as const, nodeId: 'node-é', context: new Uint8Array([1, 2, 3]) };
    assert.deepEqual(decodeConfChange(encodeConfChange(cc)), cc);
    assert.deepEqual(decodeConfChange(encodeConfChange({ type: 'removeNode', nodeId: 'x' })), { type: 'removeNode', nodeId: 'x' });
  });
});
