import * as assert from 'node:assert/strict';
import { QueueBatch, SerialQueue } from '../src/serial.js';

describe('QueueBatch: calls that arrive while their batch waits are handled by one operation', () => {
  it('gives every call queued before the operation starts to one run, later ones to the next', async () => {
    const queue = new SerialQueue();
    const runs: string[][] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const blocker = queue.push(() => gate);
    const batch = new QueueBatch<string>(queue, async (items) => {
      runs.push([...items]);
      return [];
    });
    const first = [batch.add('a'), batch.add('b'), batch.add('c')];
    release();
    await blocker;
    await Promise.all(first);
    await batch.add('d');
    assert.deepEqual(runs, [['a', 'b', 'c'], ['d']]);
  });

  it('fails only the calls whose items failed', async () => {
    const batch = new QueueBatch<number>(new SerialQueue(), async (items) => items.map((n) => (n % 2 ? new Error(`odd ${n}`) : undefined)));
    const outcomes = await Promise.allSettled([1, 2, 3, 4].map((n) => batch.add(n)));
    assert.deepEqual(outcomes.map((o) => o.status), ['rejected', 'fulfilled', 'rejected', 'fulfilled']);
    assert.match(String((outcomes[0] as PromiseRejectedResult).reason), /odd 1/);
  });

  it('fails every call of the batch when the run itself throws, and runs the next batch anyway', async () => {
    let calls = 0;
    const batch = new QueueBatch<string>(new SerialQueue(), async () => {
      if (++calls === 1) throw new Error('the shared state could not be synced');
      return [];
    });
    const outcomes = await Promise.allSettled([batch.add('a'), batch.add('b')]);
    assert.deepEqual(outcomes.map((o) => o.status), ['rejected', 'rejected']);
    await batch.add('c');
    assert.equal(calls, 2);
  });
});
