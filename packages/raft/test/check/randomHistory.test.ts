// Larger generated histories: run ops sequentially against a map, give each a
// linearization point, then widen every op into a jittered [call, return]
// interval around that point. Such a history is linearizable by construction;
// corrupting one read must make it illegal.

import assert from 'node:assert/strict';
import { kvModel, type KvInput, type KvOperation, type KvOutput } from '../sim/kvModel.js';
import { checkOperations, explain } from '../sim/linearizability.js';
import { Rng } from '../sim/rng.js';

interface GenOptions { ops: number; keys: number; jitter: number; pendingRate: number }

function generate(rng: Rng, o: GenOptions): KvOperation[] {
  const store = new Map<string, string>();
  const history: KvOperation[] = [];
  for (let i = 0; i < o.ops; i++) {
    const key = `k${rng.int(0, o.keys - 1)}`;
    const cur = store.get(key) ?? '';
    let input: KvInput;
    let output: KvOutput;
    const r = rng.next();
    if (r < 0.45) {
      input = { kind: 'get', key };
      output = { kind: 'value', value: cur };
    } else if (r < 0.8) {
      input = { kind: 'put', key, value: `v${i}` };
      output = { kind: 'ok' };
      store.set(key, input.value);
    } else if (r < 0.9) {
      input = { kind: 'append', key, value: `.${i}` };
      output = { kind: 'ok' };
      store.set(key, cur + input.value);
    } else {
      const expected = rng.chance(0.5) ? cur : 'nope';
      input = { kind: 'cas', key, expected, value: `c${i}` };
      output = { kind: 'cas', swapped: expected === cur };
      if (expected === cur) store.set(key, input.value);
    }
    const point = i * 10;
    const call = point - rng.int(0, o.jitter);
    let ret = point + rng.int(0, o.jitter);
    // A pending write: the client timed out, but the write did happen.
    if (input.kind !== 'get' && rng.chance(o.pendingRate)) ret = Infinity;
    history.push({ clientId: i % 7, input, output, call, return: ret });
  }
  // Shuffle so the checker cannot rely on input order.
  return rng.shuffle(history);
}

describe('linearizability checker: generated histories', () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    it(`accepts a jittered sequential history (seed ${seed}, 2000 ops, 8 keys)`, () => {
      const h = generate(new Rng(seed), { ops: 2000, keys: 8, jitter: 45, pendingRate: 0.05 });
      const report = checkOperations(kvModel, h);
      assert.equal(report.result, 'ok', explain(kvModel, report));
      // The linearization found covers every op of every partition.
      for (const p of report.partitions) assert.equal(p.longest.length, p.ops.length);
    });
  }

  it('accepts a heavily concurrent history on one key', () => {
    const h = generate(new Rng(42), { ops: 300, keys: 1, jitter: 60, pendingRate: 0.1 });
    assert.equal(checkOperations(kvModel, h).result, 'ok');
  });

  for (const seed of [11, 12, 13]) {
    it(`rejects the same history with one read corrupted (seed ${seed})`, () => {
      const rng = new Rng(seed);
      const h = generate(rng, { ops: 1000, keys: 4, jitter: 25, pendingRate: 0 });
      const reads = h.filter((op) => op.input.kind === 'get');
      const victim = rng.pick(reads);
      victim.output = { kind: 'value', value: 'never-written' };
      assert.equal(checkOperations(kvModel, h).result, 'illegal');
    });
  }

  it('rejects a stale read hidden in a long healthy history', () => {
    const h = generate(new Rng(7), { ops: 1000, keys: 4, jitter: 4, pendingRate: 0 });
    // With jitter 4 < half the 10-step spacing, ops do not overlap: any read
    // whose value differs from the value before it is a real violation. Make a
    // read return the value of the previous-but-one write of its key.
    const sorted = [...h].sort((a, b) => a.call - b.call);
    const writes = new Map<string, string[]>();
    let done = false;
    for (const op of sorted) {
      const ws = writes.get(op.input.key) ?? [];
      if (op.input.kind === 'put') writes.set(op.input.key, [...ws, op.input.value]);
      else if (op.input.kind !== 'get') writes.set(op.input.key, [...ws, '#']); // append/cas: value unknown here
      else if (!done && ws.length >= 2 && ws.at(-1) !== '#' && ws.at(-2) !== '#' && ws.at(-1) !== ws.at(-2)) {
        op.output = { kind: 'value', value: ws.at(-2)! };
        done = true;
      }
    }
    assert.ok(done, 'generator produced a read to corrupt');
    assert.equal(checkOperations(kvModel, h).result, 'illegal');
  });
});
