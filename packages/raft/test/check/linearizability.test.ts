// The checker's own tests: hand-built histories whose verdict is known.
// Reference: Herlihy & Wing, "Linearizability: A Correctness Condition for
// Concurrent Objects" (1990), and the register examples of MIT 6.824 quiz 2 2017.

import assert from 'node:assert/strict';
import { kvModel, type KvInput, type KvOperation, type KvOutput } from '../sim/kvModel.js';
import { checkOperations, explain, type Model } from '../sim/linearizability.js';

const put = (clientId: number, key: string, value: string, call: number, ret: number): KvOperation =>
  ({ clientId, input: { kind: 'put', key, value }, output: { kind: 'ok' }, call, return: ret });
const get = (clientId: number, key: string, value: string, call: number, ret: number): KvOperation =>
  ({ clientId, input: { kind: 'get', key }, output: { kind: 'value', value }, call, return: ret });

function verdict(history: KvOperation[]): string {
  return checkOperations(kvModel, history).result;
}

describe('linearizability checker: linearizable histories', () => {
  it('accepts the empty history', () => {
    assert.equal(verdict([]), 'ok');
  });

  it('accepts a read concurrent with a write seeing either the old or the new value', () => {
    // put x=1 spans [0,100]; one reader sees 1, a later-starting one sees '' —
    // fine, because both reads overlap the write and the '' read can come first.
    assert.equal(verdict([put(0, 'x', '1', 0, 100), get(1, 'x', '1', 25, 75), get(2, 'x', '', 30, 60)]), 'ok');
  });

  it('accepts overlapping writes read back in either order', () => {
    const w = [put(0, 'x', 'a', 0, 50), put(1, 'x', 'b', 10, 60)];
    assert.equal(verdict([...w, get(2, 'x', 'a', 70, 80)]), 'ok');
    assert.equal(verdict([...w, get(2, 'x', 'b', 70, 80)]), 'ok');
  });

  it('treats intervals as closed: ops touching at one instant are concurrent', () => {
    assert.equal(verdict([put(0, 'x', '1', 0, 10), get(1, 'x', '', 10, 20)]), 'ok');
  });

  it('lets a pending write (return = Infinity) take effect late or never', () => {
    const pending = { ...put(0, 'x', '1', 0, 0), return: Infinity };
    assert.equal(verdict([pending, get(1, 'x', '', 10, 20), get(1, 'x', '1', 30, 40)]), 'ok');
    assert.equal(verdict([pending, get(1, 'x', '', 10, 20), get(1, 'x', '', 30, 40)]), 'ok');
  });

  it('accepts a pending get with unknown output', () => {
    const g: KvOperation = { clientId: 1, input: { kind: 'get', key: 'x' }, output: { kind: 'unknown' }, call: 5, return: Infinity };
    assert.equal(verdict([put(0, 'x', '1', 0, 10), g]), 'ok');
  });

  it('checks append and cas', () => {
    const app = (c: number, v: string, call: number, ret: number): KvOperation =>
      ({ clientId: c, input: { kind: 'append', key: 'k', value: v }, output: { kind: 'ok' }, call, return: ret });
    const cas = (c: number, e: string, v: string, ok: boolean, call: number, ret: number): KvOperation =>
      ({ clientId: c, input: { kind: 'cas', key: 'k', expected: e, value: v }, output: { kind: 'cas', swapped: ok }, call, return: ret });
    assert.equal(verdict([app(0, 'a', 0, 10), app(1, 'b', 5, 15), get(2, 'k', 'ba', 20, 30)]), 'ok');
    assert.equal(verdict([app(0, 'a', 0, 10), app(1, 'b', 11, 15), get(2, 'k', 'ba', 20, 30)]), 'illegal');
    assert.equal(verdict([put(0, 'k', 'a', 0, 10), cas(1, 'a', 'b', true, 20, 30), cas(2, 'a', 'c', false, 25, 35)]), 'ok');
    assert.equal(verdict([put(0, 'k', 'a', 0, 10), cas(1, 'a', 'b', true, 20, 30), cas(2, 'a', 'c', true, 25, 35)]), 'illegal');
  });
});

describe('linearizability checker: non-linearizable histories', () => {
  it('rejects a stale read after a completed write', () => {
    // put x=1 returned at 10; a read starting at 20 must see it.
    assert.equal(verdict([put(0, 'x', '1', 0, 10), get(1, 'x', '', 20, 30)]), 'illegal');
  });

  it('rejects a read of a value that was never written', () => {
    assert.equal(verdict([put(0, 'x', '1', 0, 10), get(1, 'x', 'z', 5, 30)]), 'illegal');
  });

  it('rejects two readers that see two writes in opposite orders', () => {
    // Writes a and b overlap; client 2 sees a then b, client 3 sees b then a,
    // and all four reads happen after both writes began and are ordered pairwise.
    const h = [
      put(0, 'x', 'a', 0, 100), put(1, 'x', 'b', 0, 100),
      get(2, 'x', 'a', 10, 20), get(2, 'x', 'b', 30, 40),
      get(3, 'x', 'b', 10, 20), get(3, 'x', 'a', 30, 40),
    ];
    assert.equal(verdict(h), 'illegal');
  });

  it('rejects a read that goes back in time (6.824 quiz example)', () => {
    assert.equal(verdict([put(0, 'x', '200', 0, 100), get(1, 'x', '200', 10, 30), get(2, 'x', '', 40, 90)]), 'illegal');
  });

  it('explains a failure with the ops of the failing key and the longest prefix', () => {
    const h = [put(0, 'y', '9', 0, 5), put(0, 'x', '1', 0, 10), get(1, 'x', '', 20, 30)];
    const report = checkOperations(kvModel, h);
    assert.equal(report.result, 'illegal');
    const text = explain(kvModel, report);
    assert.match(text, /get\(x\) -> ''/);
    assert.match(text, /longest linearizable prefix: #0/);
    assert.doesNotMatch(text, /put\(y/);
  });
});

describe('linearizability checker: partitioning', () => {
  it('splits a KV history per key, keeping every op exactly once', () => {
    const h = [put(0, 'a', '1', 0, 1), put(0, 'b', '1', 2, 3), get(1, 'a', '1', 4, 5), get(1, 'c', '', 4, 5)];
    const parts = kvModel.partition!(h);
    assert.deepEqual(parts.map((p) => p.map((op) => op.input.key)), [['a', 'a'], ['b'], ['c']]);
  });

  it('finds a violation confined to one key among many healthy keys', () => {
    const h: KvOperation[] = [];
    for (let k = 0; k < 20; k++) h.push(put(0, `k${k}`, 'v', k * 10, k * 10 + 5), get(1, `k${k}`, 'v', k * 10 + 6, k * 10 + 8));
    h.push(get(2, 'k13', '', 500, 510));
    const report = checkOperations(kvModel, h);
    assert.equal(report.result, 'illegal');
    assert.equal(report.partitions.at(-1)!.ops[0].input.key, 'k13');
  });

  it('does not let keys interfere: values of different keys are not confused', () => {
    // Without per-key state a model might accept reading b's value from a.
    assert.equal(verdict([put(0, 'a', '1', 0, 10), put(0, 'b', '2', 20, 30), get(1, 'a', '2', 40, 50)]), 'illegal');
  });

  it('gives the same verdict with and without partitioning', () => {
    // An unpartitioned model over a whole map must agree with the per-key one.
    const whole: Model<ReadonlyMap<string, string>, KvInput, KvOutput> = {
      init: () => new Map(),
      step(s, i, o) {
        const cur = s.get(i.key) ?? '';
        const next = kvModel.step(cur, i, o);
        if (next === undefined) return undefined;
        if (next === cur) return s;
        return new Map(s).set(i.key, next);
      },
      equal: (a, b) => a.size === b.size && [...a].every(([k, v]) => b.get(k) === v),
      hash: (s) => [...s].sort().reduce((h, [k, v]) => (h + kvModel.hash(k + '=' + v)) >>> 0, 0),
    };
    const ok = [put(0, 'a', '1', 0, 10), put(1, 'b', '2', 5, 15), get(2, 'a', '1', 12, 20), get(2, 'b', '', 3, 6)];
    const bad = [...ok, get(3, 'b', '', 30, 40)];
    assert.equal(checkOperations(whole, ok).result, 'ok');
    assert.equal(verdict(ok), 'ok');
    assert.equal(checkOperations(whole, bad).result, 'illegal');
    assert.equal(verdict(bad), 'illegal');
  });
});

describe('linearizability checker: budget', () => {
  it("answers 'unknown' instead of hanging when the step budget runs out", () => {
    // Many fully concurrent writes and one impossible read: exhaustive search
    // is exponential, so a tiny budget must stop it.
    const h: KvOperation[] = [];
    for (let i = 0; i < 30; i++) h.push(put(i, 'x', String(i), 0, 1000));
    h.push(get(99, 'x', 'never', 0, 1000));
    for (let i = 0; i < 30; i++) h.push(get(100 + i, 'x', String(i), 1001 + i, 1001 + i));
    assert.equal(checkOperations(kvModel, h, { maxSteps: 1000 }).result, 'unknown');
  });

  it('rejects an op that returns before it is called', () => {
    assert.throws(() => verdict([put(0, 'x', '1', 10, 5)]), /returns \(5\) before its call \(10\)/);
  });
});
