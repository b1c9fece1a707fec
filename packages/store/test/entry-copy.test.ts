import { strict as assert } from 'node:assert';
import { DebugKV, StoreAction_Kind, StoreTransaction } from '@tswarm/api';
import { Store, Table } from '../src/index.js';
import { QueueProposer } from './helpers.js';

// Entries reach apply as views into larger buffers (a transport batch, a WAL segment read).
// The store must keep copies: a row that aliased its entry would change if that buffer were
// reused, and would keep the whole buffer alive for as long as the row lives.
describe('store: rows do not alias the entry they were applied from', () => {
  const kv = new Table<DebugKV>('kv', { encode: (o) => DebugKV.encode(o).finish(), decode: (b) => DebugKV.decode(b) });

  function entryInside(big: Uint8Array, at: number, value: Buffer): Uint8Array {
    const object = DebugKV.encode({ id: 'k', value }).finish();
    const tx = StoreTransaction.encode({ requestId: 'r1', actions: [{ kind: StoreAction_Kind.KIND_CREATE, table: 'kv', id: 'k', expectedVersion: 0, object }] }).finish();
    big.set(tx, at);
    return big.subarray(at, at + tx.length);
  }

  // Both kinds of buffer reach apply: the transport and the WAL hand out Buffers (whose
  // `slice` is a view, not a copy), a local proposal is a plain Uint8Array.
  for (const [kind, alloc] of [['Buffer', (n: number) => Buffer.alloc(n)], ['Uint8Array', (n: number) => new Uint8Array(n)]] as const) {
    it(`keeps its own copy of a row, bytes fields included (entry in a ${kind})`, () => {
      const store = new Store({ proposer: new QueueProposer(), tables: [kv] });
      const big = alloc(8192);
      store.apply(1, entryInside(big, 100, Buffer.alloc(300, 7)));
      big.fill(0);
      const row = store.view((tx) => tx.get(kv, 'k'));
      assert.equal(row?.object.id, 'k');
      assert.deepEqual(Buffer.from(row!.object.value), Buffer.alloc(300, 7));
      assert.notEqual(row!.object.value.buffer, big.buffer);
      assert.ok(Buffer.isBuffer(row!.object.value), 'a bytes field decodes as a Buffer whatever the entry was');
    });
  }

  it('keeps its own copy of rows restored from a snapshot', () => {
    const source = new Store({ proposer: new QueueProposer(), tables: [kv] });
    source.apply(1, entryInside(new Uint8Array(4096), 0, Buffer.alloc(300, 9)));
    const snap = source.snapshot();
    const big = Buffer.alloc(snap.length + 64);
    big.set(snap, 32);
    const restored = new Store({ proposer: new QueueProposer(), tables: [kv] });
    restored.restore(big.subarray(32, 32 + snap.length));
    big.fill(0);
    assert.deepEqual(Buffer.from(restored.view((tx) => tx.get(kv, 'k'))!.object.value), Buffer.alloc(300, 9));
  });
});
