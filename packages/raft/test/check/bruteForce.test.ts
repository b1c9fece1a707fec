// Cross-checks the search against the definition: a history is linearizable
// iff some permutation of its ops respects real-time order (a returned before
// b was called ⇒ a first) and is a legal sequential run of the model. For tiny
// random histories we enumerate every permutation and compare verdicts, which
// catches both false positives and false negatives of the pruning.

import assert from 'node:assert/strict';
import { kvModel, type KvOperation, type KvOutput } from '../sim/kvModel.js';
import { checkOperations } from '../sim/linearizability.js';
import { Rng } from '../sim/rng.js';

function bruteForce(ops: KvOperation[]): boolean {
  const used = new Array<boolean>(ops.length).fill(false);
  // state per key, as the model is per key
  const search = (depth: number, state: Map<string, string>): boolean => {
    if (depth === ops.length) return true;
    for (let i = 0; i < ops.length; i++) {
      if (used[i]) continue;
      // i may go next only if no unused op returned strictly before i was called.
      if (ops.some((o, j) => !used[j] && j !== i && o.return < ops[i].call)) continue;
      const cur = state.get(ops[i].input.key) ?? '';
      const next = kvModel.step(cur, ops[i].input, ops[i].output);
      if (next === undefined) continue;
      used[i] = true;
      const ok = search(depth + 1, new Map(state).set(ops[i].input.key, next));
      used[i] = false;
      if (ok) return true;
    }
    return false;
  };
  return search(0, new Map());
}

function randomHistory(rng: Rng): KvOperation[] {
  const n = rng.int(1, 7);
  const ops: KvOperation[] = [];
  const values = ['', 'a', 'b', 'c'];
  for (let i = 0; i < n; i++) {
    const key = rng.pick(['x', 'y']);
    const call = rng.int(0, 20);
    const ret = rng.chance(0.1) ? Infinity : call + rng.int(0, 10);
    const r = rng.next();
    if (r < 0.5) {
      const output: KvOutput = { kind: 'value', value: rng.pick(values) };
      ops.push({ clientId: i, input: { kind: 'get', key }, output, call, return: ret });
    } else if (r < 0.85) {
      ops.push({ clientId: i, input: { kind: 'put', key, value: rng.pick(values.slice(1)) }, output: { kind: 'ok' }, call, return: ret });
    } else {
      const input = { kind: 'cas' as const, key, expected: rng.pick(values), value: rng.pick(values.slice(1)) };
      ops.push({ clientId: i, input, output: { kind: 'cas', swapped: rng.chance(0.5) }, call, return: ret });
    }
  }
  return ops;
}

describe('linearizability checker: agrees with brute force', () => {
  it('gives the brute-force verdict on 3000 random tiny histories', () => {
    const rng = new Rng(2024);
    let legal = 0;
    for (let t = 0; t < 3000; t++) {
      const h = randomHistory(rng);
      const expected = bruteForce(h);
      const got = checkOperations(kvModel, h).result;
      assert.equal(got, expected ? 'ok' : 'illegal', `history #${t}: ${JSON.stringify(h)}`);
      if (expected) legal++;
    }
    // Both verdicts must be well represented, or the comparison proves little.
    assert.ok(legal > 300 && legal < 2700, `legal=${legal}`);
  });
});
