import { strict as assert } from 'node:assert';
import {
  LocalProposer,
  Store,
  WatcherLaggedError,
  WatchTooOldError,
  isEventOf,
  type StoreEvent,
  type Watcher,
} from '../src/index.js';
import { counterIds, items, localStore, rng, tasks, tick, type Item } from './helpers.js';

async function take(w: Watcher, n: number): Promise<StoreEvent[]> {
  const out: StoreEvent[] = [];
  for (let i = 0; i < n; i++) {
    const r = await w.next();
    if (r.done) break;
    out.push(r.value);
  }
  return out;
}

async function createItems(store: Store, n: number, from = 0): Promise<void> {
  for (let i = from; i < from + n; i++) {
    await store.update((tx) => tx.create(items, { id: `i${i}`, name: `n${i}`, value: i }));
  }
}

describe('store: watches', () => {
  it('delivers exactly the events after fromVersion, then live ones', async () => {
    const { store } = localStore();
    await createItems(store, 5); // versions 1..5
    const w = store.watch({ fromVersion: 2 });
    await store.update((tx) => {
      const i0 = tx.get(items, 'i0')!;
      tx.update(items, { ...i0.object, value: 100 }, i0.version);
      tx.delete(items, 'i1');
    });
    const evs = await take(w, 5);
    assert.deepEqual(
      evs.map((e) => [e.kind, e.id, e.version]),
      [
        ['create', 'i2', 3],
        ['create', 'i3', 4],
        ['create', 'i4', 5],
        ['update', 'i0', 6],
        ['delete', 'i1', 6],
      ],
    );
    const upd = evs[3]!;
    assert.ok(isEventOf(items, upd));
    assert.equal(upd.object.value, 100);
    assert.equal(upd.oldObject!.value, 0);
    assert.equal((evs[4]!.object as Item).id, 'i1', 'a delete carries the object as it was');
    assert.equal(w.pending, 0);
    w.close();
    assert.deepEqual(await w.next(), { value: undefined, done: true });
  });

  it('filters by table and by predicate', async () => {
    const { store } = localStore();
    const onlyTasks = store.watch({ tables: [tasks] });
    const onlyN1 = store.watch({ tables: ['tasks'], filter: (e) => (e.object as { nodeId?: string }).nodeId === 'n1' });
    await store.update((tx) => {
      tx.create(items, { id: 'a', name: 'a', value: 1 });
      tx.create(tasks, { id: 't1', serviceId: 's', nodeId: 'n1', state: 'new' });
      tx.create(tasks, { id: 't2', serviceId: 's', nodeId: 'n2', state: 'new' });
    });
    assert.deepEqual((await take(onlyTasks, 2)).map((e) => e.id), ['t1', 't2']);
    assert.deepEqual((await take(onlyN1, 1)).map((e) => e.id), ['t1']);
    assert.equal(onlyN1.pending, 0);
    assert.throws(() => store.watch({ tables: ['nodes'] }), /unknown store table "nodes"/);
  });

  it('fails with WatchTooOldError once history no longer reaches back', async () => {
    const { store } = localStore({ historyEvents: 4 });
    await createItems(store, 10);
    assert.equal(store.oldestWatchableVersion, 6);
    assert.throws(() => store.watch({ fromVersion: 2 }), (e: unknown) => e instanceof WatchTooOldError && /re-list/.test(e.message));
    const w = store.watch({ fromVersion: 6 });
    assert.deepEqual((await take(w, 4)).map((e) => e.version), [7, 8, 9, 10]);
  });

  it('closes a watcher that falls behind, without ever blocking the applier', async () => {
    const { store } = localStore();
    const slow = store.watch({ queueLimit: 10 });
    const fast = store.watch();
    const seen: string[] = [];
    const consuming = (async () => {
      for await (const ev of fast) {
        seen.push(ev.id);
        if (seen.length === 50) break;
      }
    })();
    await createItems(store, 50); // each resolves: the applier never waited for `slow`
    await consuming;
    assert.equal(seen.length, 50);
    assert.ok(slow.closed);
    assert.ok(slow.error instanceof WatcherLaggedError);
    await assert.rejects(slow.next(), /fell 10 events behind \(at version 11\) and was closed; re-list/);
    assert.deepEqual(await slow.next(), { value: undefined, done: true });
    assert.ok(fast.closed, 'breaking out of for-await closes the watcher');
  });

  it('wakes a consumer that is waiting for the next event', async () => {
    const { store } = localStore();
    const w = store.watch();
    const next = w.next();
    await store.update((tx) => tx.create(items, { id: 'a', name: 'a', value: 1 }));
    assert.equal((await next).value.id, 'a');
  });

  it('viewAndWatch leaves no gap and no overlap under concurrent writers', async () => {
    // Writers apply on later turns (like a real Raft loop); readers join at random times
    // and rebuild the table from their list plus their events. Every reader must end
    // with exactly the store's final table.
    const proposer = new DelayedProposer();
    const store = new Store({ proposer, tables: [items, tasks], newRequestId: counterIds() });
    proposer.attach(store);
    const random = rng(7);
    const N = 20;
    await store.update((tx) => {
      for (let i = 0; i < N; i++) tx.create(items, { id: `i${i}`, name: `n${i}`, value: 0 });
    });

    const writer = async (w: number) => {
      for (let k = 0; k < 30; k++) {
        const id = `i${Math.floor(random() * N)}`;
        try {
          await store.update((tx) => {
            const cur = tx.get(items, id);
            if (cur && random() < 0.8) tx.update(items, { ...cur.object, value: cur.object.value + 1 }, cur.version);
            else if (cur) tx.delete(items, id, cur.version);
            else tx.create(items, { id, name: `n${id}`, value: w });
          });
        } catch {
          // conflicts are expected with 4 writers; the loser just moves on
        }
        if (random() < 0.5) await tick();
      }
    };
    const readers: Array<Promise<Map<string, Item>>> = [];
    const starts: number[] = [];
    const reader = async () => {
      const { result, watcher, version } = store.viewAndWatch((tx) => new Map(tx.list(items).map((v) => [v.object.id, v.object])));
      starts.push(version);
      for await (const ev of watcher) {
        if (ev.table !== 'items') {
          // the marker (tasks) is not part of the rebuilt table
        } else if (ev.kind === 'delete') result.delete(ev.id);
        else result.set(ev.id, ev.object as Item);
        if (ev.table === 'tasks' && ev.id === 'marker') break;
      }
      return result;
    };
    const writers = [0, 1, 2, 3].map(writer);
    for (let r = 0; r < 8; r++) {
      readers.push(reader());
      for (let j = 0; j < 1 + Math.floor(random() * 10); j++) await tick();
    }
    await Promise.all(writers);
    // Let readers drain up to a final marker write.
    await store.update((tx) => tx.create(tasks, { id: 'marker', serviceId: 'm', state: 'done' }));
    const expected = store.view((tx) => new Map(tx.list(items).map((v) => [v.object.id, v.object])));
    const sort = (m: Map<string, Item>) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1));
    for (const got of await Promise.all(readers)) assert.deepEqual(sort(got), sort(expected));
    assert.ok(new Set(starts).size > 4, `readers joined at different versions: ${starts.join(',')}`);
    assert.ok(Math.max(...starts) < store.version - 10, 'and writes kept coming after the last one joined');
  });
});

/** Applies each proposal on a later turn, so writes interleave with readers. */
class DelayedProposer extends LocalProposer {
  override propose(data: Uint8Array): Promise<number> {
    return new Promise((resolve, reject) => setImmediate(() => super.propose(data).then(resolve, reject)));
  }
}
