// Optimistic concurrency and atomicity, decided at apply time. QueueProposer lets two
// transactions be built on the same version and then reach apply one after the other.
import { strict as assert } from 'node:assert';
import { StoreAction_Kind, StoreTransaction } from '@tswarm/api';
import {
  AlreadyExistsError,
  DuplicateKeyError,
  InvalidObjectError,
  LocalProposer,
  ProposalDroppedError,
  Store,
  Table,
  VersionConflictError,
  jsonCodec,
  type Proposer,
} from '../src/index.js';
import { counterIds, items, localStore, queueStore, tick, type Item } from './helpers.js';

describe('store: optimistic concurrency', () => {
  it('rejects an update built on a stale version at apply time, applying nothing', async () => {
    const { store, proposer } = queueStore();
    const seed = store.update((tx) => tx.create(items, { id: 'a', name: 'alpha', value: 1 }));
    await tick();
    proposer.commit();
    await seed;

    // Both read version 1 before either commits.
    const bump = (value: number) =>
      store.update((tx) => {
        const a = tx.get(items, 'a')!;
        tx.update(items, { ...a.object, value }, a.version);
      });
    const first = bump(2);
    const second = bump(3);
    await tick();
    assert.equal(proposer.queued, 2);
    proposer.commit();

    assert.equal((await first).version, 2);
    const err = await second.then(
      () => assert.fail('stale update applied'),
      (e: unknown) => e,
    );
    assert.ok(err instanceof VersionConflictError);
    assert.equal(err.table, 'items');
    assert.equal(err.id, 'a');
    assert.equal(err.expectedVersion, 1);
    assert.equal(err.actualVersion, 2);
    assert.match(err.message, /items\/a: expected version 1 but it is at version 2/);

    const a = store.view((tx) => tx.get(items, 'a'))!;
    assert.deepEqual([a.object.value, a.version], [2, 2]);
    assert.equal(store.version, 3, 'a rejected entry still moves the version');
  });

  it('applies a transaction entirely or not at all', async () => {
    const { store, proposer } = queueStore();
    const seed = store.update((tx) => {
      tx.create(items, { id: 'a', name: 'alpha', value: 1 });
      tx.create(items, { id: 'b', name: 'beta', value: 1 });
    });
    await tick();
    proposer.commit();
    await seed;
    const events: unknown[] = [];
    const w = store.watch();
    void (async () => {
      for await (const ev of w) events.push(ev);
    })();

    // Both read version 1; the racer proposes first, so it commits first and `stale`
    // fails on its last action — after a create and an update that must not survive.
    const racer = store.update((tx) => {
      const a = tx.get(items, 'a')!;
      tx.update(items, { ...a.object, value: 9 }, a.version);
    });
    const stale = store.update((tx) => {
      tx.create(items, { id: 'c', name: 'gamma', value: 1 });
      const b = tx.get(items, 'b')!;
      tx.update(items, { ...b.object, value: 5 }, b.version);
      const a = tx.get(items, 'a')!;
      tx.update(items, { ...a.object, value: 5 }, a.version);
    });
    await tick();
    assert.equal(proposer.queued, 2);
    proposer.commit();
    await racer;
    await assert.rejects(stale, VersionConflictError);
    await tick();

    store.view((tx) => {
      assert.equal(tx.get(items, 'c'), undefined, 'the create in the failed transaction did not apply');
      assert.equal(tx.get(items, 'b')!.object.value, 1, 'the first update did not apply');
      assert.equal(tx.get(items, 'a')!.object.value, 9);
    });
    assert.deepEqual(
      events.map((e) => (e as { id: string }).id),
      ['a'],
      'watchers saw only the racer',
    );
    w.close();
  });

  it('rejects a create of an existing id at apply time (AlreadyExistsError)', async () => {
    const { store, proposer } = queueStore();
    const one = store.update((tx) => tx.create(items, { id: 'a', name: 'one', value: 1 }));
    const two = store.update((tx) => tx.create(items, { id: 'a', name: 'two', value: 2 }));
    await tick();
    proposer.commit();
    await one;
    await assert.rejects(two, (e: unknown) => e instanceof AlreadyExistsError && /items\/a already exists/.test(e.message));
    assert.equal(store.view((tx) => tx.get(items, 'a'))!.object.name, 'one');
  });

  it('keeps unique index keys unique across concurrent transactions (services by name)', async () => {
    const { store, proposer } = queueStore();
    const one = store.update((tx) => tx.create(items, { id: 'x', name: 'web', value: 1 }));
    const two = store.update((tx) => tx.create(items, { id: 'y', name: 'web', value: 2 }));
    await tick();
    proposer.commit();
    await one;
    const err = await two.catch((e: unknown) => e);
    assert.ok(err instanceof DuplicateKeyError);
    assert.match(err.message, /items\/y: byName "web" is already used by items\/x/);
  });

  it('lets one transaction swap unique keys and reuse a freed key', async () => {
    const { store } = localStore();
    await store.update((tx) => {
      tx.create(items, { id: 'x', name: 'web', value: 1 });
      tx.create(items, { id: 'y', name: 'db', value: 1 });
    });
    await store.update((tx) => {
      tx.update(items, { id: 'x', name: 'db', value: 1 }, 1);
      tx.update(items, { id: 'y', name: 'web', value: 1 }, 1);
    });
    await store.update((tx) => {
      tx.delete(items, 'x');
      tx.create(items, { id: 'z', name: 'db', value: 1 });
    });
    assert.deepEqual(store.view((tx) => tx.find(items, 'byName', 'db').map((v) => v.object.id)), ['z']);
    await assert.rejects(
      store.update((tx) => tx.create(items, { id: 'w', name: 'web', value: 1 })),
      DuplicateKeyError,
    );
  });

  it('passes the proposer\'s error through (e.g. not leader) and applies nothing', async () => {
    const { store, proposer } = localStore();
    proposer.failNext(new Error('not the leader; the leader is manager-2'));
    await assert.rejects(
      store.update((tx) => tx.create(items, { id: 'a', name: 'a', value: 1 })),
      /not the leader/,
    );
    assert.equal(store.version, 0);
  });

  it('reports a proposal whose index was taken by another entry as dropped', async () => {
    // After a leader change the slot our proposal was promised holds another entry.
    const foreign = StoreTransaction.encode({
      requestId: 'someone-else',
      actions: [
        {
          kind: StoreAction_Kind.KIND_CREATE,
          table: 'items',
          id: 'b',
          expectedVersion: 0,
          object: Buffer.from(items.codec.encode({ id: 'b', name: 'b', value: 1 })),
        },
      ],
    }).finish();
    let store!: Store;
    const proposer: Proposer = {
      propose: async () => {
        store.apply(1, foreign);
        return 1;
      },
      readIndex: async () => 0,
    };
    store = new Store({ proposer, tables: [items], newRequestId: counterIds('mine') });
    await assert.rejects(
      store.update((tx) => tx.create(items, { id: 'a', name: 'a', value: 1 })),
      (e: unknown) => e instanceof ProposalDroppedError && e.index === 1,
    );
    assert.equal(store.view((tx) => tx.get(items, 'a')), undefined);
    assert.equal(store.view((tx) => tx.get(items, 'b'))?.object.id, 'b');
  });

  it('rejects, without partial writes, an object an index key function cannot handle', async () => {
    const fragile = new Table<Item>('fragile', jsonCodec<Item>()).index('byName', (i) => {
      if (i.name === 'boom') throw new Error('names may not be "boom"');
      return i.name;
    });
    const proposer = new LocalProposer();
    const store = new Store({ proposer, tables: [fragile], newRequestId: counterIds() });
    proposer.attach(store);
    await assert.rejects(
      store.update((tx) => {
        tx.create(fragile, { id: 'ok', name: 'fine', value: 1 });
        tx.create(fragile, { id: 'bad', name: 'boom', value: 1 });
      }),
      (e: unknown) => e instanceof InvalidObjectError && /fragile\/bad: index byName cannot key this object/.test(e.message),
    );
    assert.deepEqual(store.view((tx) => tx.list(fragile)), []);
    assert.equal(store.version, 1);
  });
});
