import { strict as assert } from 'node:assert';
import { StoreSnapshot } from '@tswarm/api';
import { items, localStore, tasks } from './helpers.js';

// A snapshot of a large store is encoded in the background, a slice per turn, from a view
// captured at one version; the manager keeps applying meanwhile.
describe('store: snapshots captured now, encoded in the background', () => {
  async function filled(n: number) {
    const s = localStore();
    await s.store.batch(async (b) => {
      for (let i = 0; i < n; i++) await b.update((tx) => tx.create(items, { id: `i${String(i).padStart(5, '0')}`, name: `n${i}`, value: i }));
      for (let i = 0; i < n / 2; i++) await b.update((tx) => tx.create(tasks, { id: `t${i}`, serviceId: 's', state: 'running' }));
    });
    return s;
  }

  it('gives the bytes of the state at capture, while later writes apply between its slices', async () => {
    const { store } = await filled(5_000);
    const expected = store.snapshot();
    const capture = store.captureSnapshot();
    let turns = 0;
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        await store.update((tx) => {
          tx.create(items, { id: `late${i}`, name: `late${i}`, value: -1 });
          const row = tx.get(items, 'i00000')!;
          tx.update(items, { ...row.object, value: 1_000_000 + i }, row.version);
        });
        turns++;
        await new Promise((r) => setImmediate(r));
      }
    })();
    const bytes = Buffer.alloc(await capture.size());
    await capture.writeInto(bytes);
    writing = false;
    await writer;
    assert.ok(turns >= 3, `the store kept applying while the snapshot was encoded (${turns} writes)`);
    assert.deepEqual(Buffer.from(bytes), Buffer.from(expected));
    assert.notDeepEqual(Buffer.from(store.snapshot()), Buffer.from(expected), 'the store did move on');
  });

  it('writes exactly what the generated encoder writes for the same snapshot', async () => {
    const { store } = await filled(4_500);
    // Ids beyond ASCII (more bytes than characters), and an object with version and bytes
    // large enough for multi-byte varints.
    await store.update((tx) => tx.create(items, { id: 'ünï/日本/🚢', name: 'wide', value: 1, pad: 'p'.repeat(70_000) }));
    const bytes = store.snapshot();
    const decoded = StoreSnapshot.decode(bytes);
    assert.deepEqual(decoded.tables.map((t) => [t.name, t.objects.length]), [['items', 4_501], ['tasks', 2_250]]);
    assert.equal(decoded.tables[0]!.objects[4_500]!.id, 'ünï/日本/🚢');
    assert.deepEqual(Buffer.from(StoreSnapshot.encode(decoded).finish()), Buffer.from(bytes));
  });

  it('writes only into a buffer of the size it measured', async () => {
    const { store } = await filled(10);
    const capture = store.captureSnapshot();
    await assert.rejects(capture.writeInto(new Uint8Array(10)), /needs a buffer of size\(\) bytes \(not measured yet\)/);
    const size = await capture.size();
    assert.equal(size, store.snapshot().length);
    await assert.rejects(capture.writeInto(new Uint8Array(size + 1)), new RegExp(`needs a buffer of size\\(\\) bytes \\(${size}\\), got ${size + 1}`));
  });
});
