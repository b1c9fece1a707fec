// Sequential specification of the simulator's key-value store, for the
// linearizability checker. Keys are independent, so the model partitions the
// history per key and the per-partition state is one string ('' = absent).

import type { Model, Operation } from './linearizability.js';

export type KvInput =
  | { kind: 'get'; key: string }
  | { kind: 'put'; key: string; value: string }
  | { kind: 'append'; key: string; value: string }
  /** Compare-and-set: write value iff the current value equals expected. */
  | { kind: 'cas'; key: string; expected: string; value: string };

export type KvOutput =
  | { kind: 'value'; value: string } // get
  | { kind: 'ok' } // put, append
  | { kind: 'cas'; swapped: boolean }
  /** The client never learned the outcome (timeout): any result is acceptable. */
  | { kind: 'unknown' };

export type KvOperation = Operation<KvInput, KvOutput>;

function stringHash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

export const kvModel: Model<string, KvInput, KvOutput> = {
  init: () => '',
  step(state, input, output) {
    const unknown = output.kind === 'unknown';
    switch (input.kind) {
      case 'get':
        if (unknown) return state;
        return output.kind === 'value' && output.value === state ? state : undefined;
      case 'put':
        return input.value;
      case 'append':
        return state + input.value;
      case 'cas': {
        const swap = state === input.expected;
        if (!unknown && (output.kind !== 'cas' || output.swapped !== swap)) return undefined;
        return swap ? input.value : state;
      }
    }
  },
  equal: (a, b) => a === b,
  hash: stringHash,
  partition(history) {
    const byKey = new Map<string, KvOperation[]>();
    for (const op of history) {
      const part = byKey.get(op.input.key);
      if (part) part.push(op);
      else byKey.set(op.input.key, [op]);
    }
    // Sorted by key so reports (and the first failing partition) are deterministic.
    return [...byKey.keys()].sort().map((k) => byKey.get(k)!);
  },
  describeOperation(input, output) {
    const out = output.kind === 'unknown' ? '?' : output.kind === 'value' ? `'${output.value}'` :
      output.kind === 'cas' ? String(output.swapped) : 'ok';
    switch (input.kind) {
      case 'get': return `get(${input.key}) -> ${out}`;
      case 'put': return `put(${input.key}, '${input.value}') -> ${out}`;
      case 'append': return `append(${input.key}, '${input.value}') -> ${out}`;
      case 'cas': return `cas(${input.key}, '${input.expected}' => '${input.value}') -> ${out}`;
    }
  },
  describeState: (s) => `'${s}'`,
};
