import { strict as assert } from 'node:assert';
import { StoreSnapshot } from '@tswarm/api';
import { LocalProposer, Store, StoreRestoredError, UnknownTableError, WatchTooOldError } from '../src/index.js';
import { counterIds, items, localStore, queueStore, tasks } from './helpers.js';

function emptyReplica(tables = [items, tasks]): Store {
  return new Store({ proposer: new LocalProposer(), tables, newRequestId: counterIds() });
}

describe('store: snapshots', () => {
  it('round-trips the whole store, indexes included', async () => {
    const { store } = localStore();
    await store.update((tx) => {
      tx.create(items, { id: 'b', name: 'beta', value: 2 });
      tx.create(items, { id: 'a', name: 'alpha', value: 1 });
      tx.create(tasks, { id: 't1', serviceId: 's1', nodeId: 'n1', state: 'running' });
    });
    await store.update((tx) => tx.delete(items, 'b'));
    const snap = store.snapshot();

    const replica = emptyReplica();
    replica.restore(snap);
    assert.equal(replica.version, 2);
    assert.deepEqual(replica.snapshot(), snap);
    replica.view((tx) => {
      assert.deepEqual(tx.get(items, 'a'), { object: { id: 'a', name: 'alpha', value: 1 }, version: 1, createdIndex: 1 }); // createdIndex survives the snapshot
      assert.equal(tx.get(items, 'b'), undefined);
      assert.deepEqual(tx.find(tasks, 'byNode', 'n1').map((v) => v.object.id), ['t1']);
      assert.deepEqual(tx.find(items, 'byName', 'alpha').map((v) => v.object.id), ['a']);
    });
    // Applying continues from the snapshot's index.
    assert.throws(() => replica.apply(2, new Uint8Array()), /out of order/);
  });

  it('orders tables by name and objects in apply order, which a restore keeps', async () => {
    const a = localStore();
    await a.store.update((tx) => {
      tx.create(tasks, { id: 't', serviceId: 's', state: 'new' });
      tx.create(items, { id: 'y', name: 'y', value: 1 });
      tx.create(items, { id: 'x', name: 'x', value: 1 });
      tx.create(items, { id: 'z', name: 'z', value: 1 });
    });
    const ids = (snap: Uint8Array) => StoreSnapshot.decode(snap).tables.map((t) => [t.name, t.objects.map((o) => o.id)]);
    assert.deepEqual(ids(a.store.snapshot()), [['items', ['y', 'x', 'z']], ['tasks', ['t']]]);

    // A replica restored from it, fed the same entries after, stays byte-identical: an update
    // keeps an object's place, a delete and re-create moves it to the end.
    const b = emptyReplica();
    b.restore(a.store.snapshot());
    await a.store.update((tx) => {
      tx.update(items, { id: 'x', name: 'x', value: 2 }, 1);
      tx.delete(items, 'y');
    });
    await a.store.update((tx) => tx.create(items, { id: 'y', name: 'y', value: 3 }));
    for (const [i, e] of a.proposer.log.entries()) if (i >= 1) b.apply(e.index, e.data);
    assert.deepEqual(ids(a.store.snapshot()), [['items', ['x', 'z', 'y']], ['tasks', ['t']]]);
    assert.deepEqual(b.snapshot(), a.store.snapshot());
  });

  it('closes watchers and fails pending transactions on restore, telling them to re-list', async () => {
    const source = localStore();
    await source.store.update((tx) => tx.create(items, { id: 'a', name: 'a', value: 1 }));
    await source.store.update((tx) => tx.create(items, { id: 'b', name: 'b', value: 1 }));

    const { store, proposer } = queueStore();
    const w = store.watch();
    const pending = store.update((tx) => tx.create(items, { id: 'c', name: 'c', value: 1 }));
    await new Promise((r) => setImmediate(r));
    assert.equal(proposer.queued, 1);
    store.restore(source.store.snapshot());

    await assert.rejects(w.next(), (e: unknown) => e instanceof StoreRestoredError && /re-list with viewAndWatch/.test(e.message));
    await assert.rejects(pending, (e: unknown) => e instanceof StoreRestoredError && /outcome is unknown/.test(e.message));
    assert.throws(() => store.watch({ fromVersion: 1 }), WatchTooOldError);
    const after = store.watch({ fromVersion: 2 });
    assert.equal(after.closed, false);
  });

  it('refuses a snapshot with a table it does not know, keeping its state', async () => {
    const { store } = localStore();
    await store.update((tx) => tx.create(tasks, { id: 't', serviceId: 's', state: 'new' }));
    const replica = emptyReplica([items]);
    assert.throws(() => replica.restore(store.snapshot()), UnknownTableError);
    assert.equal(replica.version, 0);
  });
});
