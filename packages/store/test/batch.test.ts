import { strict as assert } from 'node:assert';
import {
  BatchError,
  MAX_ACTIONS_PER_TRANSACTION,
  TransactionTooLargeError,
} from '../src/index.js';
import { decodeEntry, items, localStore, tasks } from './helpers.js';

describe('store: batches', () => {
  it('creates 1000 tasks in transactions of at most MAX_ACTIONS_PER_TRANSACTION actions', async () => {
    const { store, proposer } = localStore();
    const res = await store.batch(async (b) => {
      for (let i = 0; i < 1000; i++) {
        await b.update((tx) => tx.create(tasks, { id: `t${i}`, serviceId: 'web', state: 'new' }));
      }
    });
    assert.equal(MAX_ACTIONS_PER_TRANSACTION, 200);
    assert.deepEqual(res, { transactions: 5, actions: 1000, version: 5 });
    assert.deepEqual(
      proposer.log.map((e) => decodeEntry(e.data).actions.length),
      [200, 200, 200, 200, 200],
    );
    assert.equal(store.view((tx) => tx.find(tasks, 'byService', 'web').length), 1000);
  });

  it('bounds each transaction\'s bytes and never splits a unit', async () => {
    const maxTransactionBytes = 4000;
    const { store, proposer } = localStore({ maxTransactionBytes });
    const pad = 'x'.repeat(300);
    await store.batch(async (b) => {
      for (let i = 0; i < 40; i++) {
        // A unit: an item and its task must land in the same transaction.
        await b.update((tx) => {
          tx.create(items, { id: `i${i}`, name: `n${i}`, value: i, pad });
          tx.create(tasks, { id: `t${i}`, serviceId: `i${i}`, state: 'new' });
        });
      }
    });
    assert.ok(proposer.log.length > 1);
    for (const e of proposer.log) {
      assert.ok(e.data.length <= maxTransactionBytes, `entry ${e.index} is ${e.data.length} bytes`);
      const ids = decodeEntry(e.data).actions.map((a) => a.id);
      for (const id of ids.filter((x) => x.startsWith('i'))) assert.ok(ids.includes(`t${id.slice(1)}`), `unit ${id} split`);
    }
    assert.equal(store.view((tx) => tx.list(items).length), 40);
  });

  it('lets a unit read what earlier units of the same batch staged', async () => {
    const { store } = localStore();
    await store.batch(async (b) => {
      await b.update((tx) => tx.create(items, { id: 'a', name: 'a', value: 1 }));
      await b.update((tx) => {
        const a = tx.get(items, 'a')!;
        tx.update(items, { ...a.object, value: 2 }, a.version);
      });
    });
    assert.equal(store.view((tx) => tx.get(items, 'a'))!.object.value, 2);
  });

  it('discards a unit that throws and carries on', async () => {
    const { store } = localStore();
    await store.batch(async (b) => {
      await b.update((tx) => tx.create(items, { id: 'a', name: 'a', value: 1 }));
      await assert.rejects(
        b.update((tx) => {
          tx.create(items, { id: 'b', name: 'b', value: 1 });
          throw new Error('changed my mind');
        }),
        /changed my mind/,
      );
      await b.update((tx) => tx.create(items, { id: 'c', name: 'c', value: 1 }));
    });
    assert.deepEqual(store.view((tx) => tx.list(items).map((v) => v.object.id).sort()), ['a', 'c']);
  });

  it('reports how far a failing batch got (BatchError)', async () => {
    const { store, proposer } = localStore();
    const err = await store
      .batch(async (b) => {
        for (let i = 0; i < 500; i++) {
          if (i === 250) proposer.failNext(new Error('not the leader'));
          await b.update((tx) => tx.create(tasks, { id: `t${i}`, serviceId: 's', state: 'new' }));
        }
      })
      .catch((e: unknown) => e);
    assert.ok(err instanceof BatchError);
    assert.equal(err.committedUnits, 200);
    assert.match(err.message, /batch stopped after 200 committed units: not the leader/);
    assert.equal(store.view((tx) => tx.list(tasks).length), 200);
  });

  it('refuses a transaction larger than one Raft entry, proposing nothing', async () => {
    const { store, proposer } = localStore({ maxTransactionBytes: 1000 });
    const pad = 'x'.repeat(2000);
    await assert.rejects(
      store.update((tx) => tx.create(items, { id: 'a', name: 'a', value: 1, pad })),
      (e: unknown) => e instanceof TransactionTooLargeError && /split it with store.batch\(\)/.test(e.message),
    );
    await assert.rejects(
      store.batch((b) => b.update((tx) => tx.create(items, { id: 'a', name: 'a', value: 1, pad }))),
      TransactionTooLargeError,
    );
    assert.equal(proposer.log.length, 0);
  });
});
