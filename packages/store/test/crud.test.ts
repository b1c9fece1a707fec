import { strict as assert } from 'node:assert';
import { StoreAction_Kind } from '@tswarm/api';
import { AlreadyExistsError, NotFoundError, StoreClosedError } from '../src/index.js';
import { decodeEntry, items, localStore, tasks } from './helpers.js';

describe('store: create, read, update, delete', () => {
  it('versions every object by the Raft index that last wrote it', async () => {
    const { store } = localStore();
    const c = await store.update((tx) => tx.create(items, { id: 'a', name: 'alpha', value: 1 }));
    assert.equal(c.version, 1);
    assert.deepEqual(store.view((tx) => tx.get(items, 'a')), {
      object: { id: 'a', name: 'alpha', value: 1 },
      version: 1,
      createdIndex: 1,
    });

    await store.update((tx) => tx.create(items, { id: 'b', name: 'beta', value: 2 }));
    const u = await store.update((tx) => {
      const a = tx.get(items, 'a')!;
      tx.update(items, { ...a.object, value: 10 }, a.version);
    });
    assert.equal(u.version, 3);
    const a = store.view((tx) => tx.get(items, 'a'))!;
    assert.equal(a.object.value, 10);
    assert.equal(a.version, 3);
    assert.equal(a.createdIndex, 1, 'createdIndex survives updates');
    assert.equal(store.version, 3);

    await store.update((tx) => tx.delete(items, 'a', 3));
    assert.equal(store.view((tx) => tx.get(items, 'a')), undefined);
    assert.deepEqual(store.view((tx) => tx.list(items).map((v) => v.object.id)), ['b']);
    assert.equal(store.version, 4);
  });

  it('returns the callback result and proposes nothing for a transaction without writes', async () => {
    const { store, proposer } = localStore();
    const r = await store.update((tx) => tx.list(items).length);
    assert.deepEqual(r, { version: 0, result: 0 });
    assert.equal(proposer.log.length, 0);
  });

  it('hands out frozen objects so readers cannot change the store', async () => {
    const { store } = localStore();
    await store.update((tx) => tx.create(items, { id: 'a', name: 'alpha', value: 1 }));
    const a = store.view((tx) => tx.get(items, 'a'))!;
    assert.throws(() => {
      (a.object as { value: number }).value = 2;
    }, TypeError);
  });

  it('keeps the caller\'s object out of the store (later mutation changes nothing)', async () => {
    const { store } = localStore();
    const obj = { id: 'a', name: 'alpha', value: 1 };
    await store.update((tx) => tx.create(items, obj));
    obj.value = 99;
    assert.equal(store.view((tx) => tx.get(items, 'a'))!.object.value, 1);
  });

  it('finds objects through secondary indexes, and re-keys them on update', async () => {
    const { store } = localStore();
    await store.update((tx) => {
      tx.create(tasks, { id: 't1', serviceId: 's1', nodeId: 'n1', state: 'running' });
      tx.create(tasks, { id: 't2', serviceId: 's1', nodeId: 'n2', state: 'running' });
      tx.create(tasks, { id: 't3', serviceId: 's2', state: 'pending' });
    });
    const ids = (vs: { object: { id: string } }[]) => vs.map((v) => v.object.id).sort();
    store.view((tx) => {
      assert.deepEqual(ids(tx.find(tasks, 'byService', 's1')), ['t1', 't2']);
      assert.deepEqual(ids(tx.find(tasks, 'byNode', 'n1')), ['t1']);
      assert.deepEqual(ids(tx.find(tasks, 'byNode', 'n3')), []);
    });
    await store.update((tx) => {
      const t3 = tx.get(tasks, 't3')!;
      tx.update(tasks, { ...t3.object, nodeId: 'n1' }, t3.version);
      tx.delete(tasks, 't1');
    });
    store.view((tx) => {
      assert.deepEqual(ids(tx.find(tasks, 'byNode', 'n1')), ['t3']);
      assert.deepEqual(ids(tx.find(tasks, 'byService', 's1')), ['t2']);
      assert.throws(() => tx.find(tasks, 'byColour', 'x'), /has no index "byColour"/);
    });
  });

  it('lets a transaction read its own writes, and folds them into one action per object', async () => {
    const { store, proposer } = localStore();
    await store.update((tx) => tx.create(items, { id: 'old', name: 'old', value: 0 }));
    await store.update((tx) => {
      tx.create(items, { id: 'a', name: 'alpha', value: 1 });
      const staged = tx.get(items, 'a')!;
      assert.equal(staged.version, 0, 'staged objects read as version 0');
      tx.update(items, { ...staged.object, value: 2 }, staged.version);
      assert.equal(tx.find(items, 'byName', 'alpha').length, 1);
      tx.create(items, { id: 'gone', name: 'gone', value: 0 });
      tx.delete(items, 'gone');
      tx.delete(items, 'old', 1);
      assert.equal(tx.get(items, 'old'), undefined);
      assert.deepEqual(tx.list(items).map((v) => v.object.id), ['a']);
    });
    const actions = decodeEntry(proposer.log[1]!.data).actions;
    assert.deepEqual(
      actions.map((a) => [a.kind, a.id]),
      [
        [StoreAction_Kind.KIND_CREATE, 'a'],
        [StoreAction_Kind.KIND_DELETE, 'old'],
      ],
    );
    assert.equal(store.view((tx) => tx.get(items, 'a'))!.object.value, 2);
  });

  it('turns delete-then-create of one id into a replacement', async () => {
    const { store } = localStore();
    await store.update((tx) => tx.create(items, { id: 'a', name: 'alpha', value: 1 }));
    const events: string[] = [];
    const w = store.watch();
    await store.update((tx) => {
      tx.delete(items, 'a', 1);
      tx.create(items, { id: 'a', name: 'alpha', value: 2 });
    });
    for (let i = 0; i < 2; i++) events.push((await w.next()).value.kind);
    assert.deepEqual(events, ['delete', 'create']);
    assert.equal(store.view((tx) => tx.get(items, 'a'))!.createdIndex, 2);
  });

  it('fails fast on writes that cannot apply to the local state', async () => {
    const { store, proposer } = localStore();
    await store.update((tx) => tx.create(items, { id: 'a', name: 'alpha', value: 1 }));
    await assert.rejects(store.update((tx) => tx.create(items, { id: 'a', name: 'x', value: 1 })), AlreadyExistsError);
    await assert.rejects(store.update((tx) => tx.delete(items, 'nope')), NotFoundError);
    await assert.rejects(store.update((tx) => tx.create(items, { id: '', name: 'x', value: 1 })), /non-empty string id/);
    assert.equal(proposer.log.length, 1, 'nothing proposed');
  });

  it('refuses writes after the callback returned (a missing await)', async () => {
    const { store } = localStore();
    let leaked: Parameters<Parameters<typeof store.update>[0]>[0] | undefined;
    await store.update((tx) => {
      leaked = tx;
    });
    assert.throws(() => leaked!.create(items, { id: 'a', name: 'a', value: 1 }), /missing await/);
  });

  it('refuses a view reader used after its callback returned', () => {
    const { store } = localStore();
    const reader = store.view((tx) => tx);
    assert.throws(() => reader.list(items), /keep view callbacks synchronous/);
  });

  it('rejects tables it was not given', async () => {
    const { store } = localStore({ tables: [items] });
    assert.throws(() => store.view((tx) => tx.list(tasks)), /unknown store table "tasks" \(registered: items\)/);
  });

  it('fails pending work after close', async () => {
    const { store } = localStore();
    store.close();
    await assert.rejects(store.update((tx) => tx.create(items, { id: 'a', name: 'a', value: 1 })), StoreClosedError);
  });
});
