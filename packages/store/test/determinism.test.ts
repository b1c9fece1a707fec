// Replicas fed the same committed entries must agree exactly — on state, on which
// transactions were rejected, and on snapshot bytes — including a replica that started
// from a snapshot halfway through.
import { strict as assert } from 'node:assert';
import { StoreAction_Kind, StoreTransaction, type StoreAction } from '@tswarm/api';
import { LocalProposer, Store, type ApplyOutcome } from '../src/index.js';
import { counterIds, items, rng, tasks } from './helpers.js';

function replica(): Store {
  return new Store({ proposer: new LocalProposer(), tables: [items, tasks], newRequestId: counterIds() });
}

/** Random raw entries, many of them invalid on purpose (stale versions, duplicates, unknown ids). */
function randomEntries(seed: number, count: number): Uint8Array[] {
  const random = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const ids = ['a', 'b', 'c', 'd', 'e', 'f'];
  const names = ['web', 'db', 'cache'];
  const out: Uint8Array[] = [];
  for (let n = 0; n < count; n++) {
    const actions: StoreAction[] = [];
    for (let k = 0; k < 1 + Math.floor(random() * 3); k++) {
      const id = pick(ids);
      const kind = pick([StoreAction_Kind.KIND_CREATE, StoreAction_Kind.KIND_UPDATE, StoreAction_Kind.KIND_DELETE]);
      const table = random() < 0.5 ? 'items' : 'tasks';
      const obj =
        table === 'items'
          ? items.codec.encode({ id, name: pick(names), value: n })
          : tasks.codec.encode({ id, serviceId: pick(names), nodeId: pick(['n1', 'n2']), state: 'new' });
      actions.push({
        kind,
        table,
        id,
        expectedVersion: kind === StoreAction_Kind.KIND_CREATE ? 0 : Math.floor(random() * (n + 1)),
        object: kind === StoreAction_Kind.KIND_DELETE ? Buffer.alloc(0) : Buffer.from(obj),
      });
    }
    out.push(StoreTransaction.encode({ requestId: `r${n}`, actions }).finish());
  }
  return out;
}

function summary(o: ApplyOutcome): string {
  return o.applied ? `ok ${o.events}` : `rejected ${o.reason.name}: ${o.reason.message}`;
}

describe('store: determinism', () => {
  it('two replicas fed the same entries end with identical snapshots and outcomes', () => {
    const entries = randomEntries(42, 400);
    const a = replica();
    const b = replica();
    const outA = entries.map((e, i) => summary(a.apply(i + 1, e)));
    const outB = entries.map((e, i) => summary(b.apply(i + 1, e)));
    assert.deepEqual(outA, outB);
    assert.ok(outA.some((o) => o.startsWith('ok')), 'some transactions applied');
    assert.ok(outA.some((o) => o.includes('VersionConflictError')), 'some were stale');
    assert.ok(outA.some((o) => o.includes('DuplicateKeyError')), 'some broke a unique index');
    assert.deepEqual(a.snapshot(), b.snapshot());
  });

  it('a replica restored from a mid-way snapshot converges with one that applied everything', () => {
    const entries = randomEntries(9, 300);
    const full = replica();
    let mid: Uint8Array | undefined;
    entries.forEach((e, i) => {
      full.apply(i + 1, e);
      if (i + 1 === 150) mid = full.snapshot();
    });
    const late = replica();
    late.restore(mid!);
    for (let i = 150; i < entries.length; i++) late.apply(i + 1, entries[i]!);
    assert.deepEqual(late.snapshot(), full.snapshot());
  });

  it('rejects an undecodable entry deterministically and moves on', () => {
    const a = replica();
    const out = a.apply(1, Uint8Array.from([0xff, 0xff, 0xff]));
    assert.equal(out.applied, false);
    assert.equal(a.version, 1);
  });

  it('counts entries that are not store transactions through advance()', async () => {
    const a = replica();
    a.advance(1); // e.g. a new leader's no-op entry
    assert.equal(a.version, 1);
    assert.throws(() => a.advance(1), /out of order/);
  });
});
