// Deterministic simulation of the Raft core under faults: a few dozen seeds
// for CI (the CLI runs hundreds). Each seed checks election safety, log
// matching, leader completeness, state-machine safety, liveness after healing
// and linearizability of the client history (Raft paper §5, Figure 3).

import assert from 'node:assert/strict';
import { FAULT_NAMES, type FaultToggles } from './faults.js';
import { runSimulation, type SimResult, type SimStats } from './simulator.js';

function describeFailure(r: SimResult): string {
  return `seed ${r.seed} failed ${r.failure}: ${r.detail}\nreplay: npm run sim -- --seeds 1 --start ${r.seed} --verbose`;
}

describe('simulation: safety and linearizability under every fault', function () {
  this.timeout(60_000);
  const totals: Partial<Record<keyof SimStats, number>> = {};
  const add = (s: SimStats): void => {
    for (const [k, v] of Object.entries(s)) {
      if (typeof v === 'number') totals[k as keyof SimStats] = (totals[k as keyof SimStats] ?? 0) + v;
    }
  };

  for (let seed = 1; seed <= 24; seed++) {
    it(`3 nodes, seed ${seed}`, () => {
      const r = runSimulation({ seed, nodes: 3 });
      add(r.stats);
      assert.ok(r.ok, describeFailure(r));
    });
  }
  for (let seed = 1; seed <= 12; seed++) {
    it(`5 nodes, seed ${seed}`, () => {
      const r = runSimulation({ seed, nodes: 5 });
      add(r.stats);
      assert.ok(r.ok, describeFailure(r));
    });
  }

  for (let seed = 1; seed <= 6; seed++) {
    it(`3 nodes on the simulator's entry-level disk model, seed ${seed}`, () => {
      const r = runSimulation({ seed, nodes: 3, disk: 'model' });
      assert.ok(r.ok, describeFailure(r));
    });
  }

  it('exercised what it claims to: faults happened and the cluster still made progress', () => {
    // If a refactor silently disabled a fault, the seeds above would pass
    // without testing anything; these totals catch that.
    const t = totals;
    assert.ok((t.crashes ?? 0) > 20, `crashes=${t.crashes}`);
    assert.ok((t.partitions ?? 0) > 50, `partitions=${t.partitions}`);
    assert.ok((t.dropped ?? 0) > 1000, `dropped=${t.dropped}`);
    assert.ok((t.confChanges ?? 0) > 30, `confChanges=${t.confChanges}`);
    assert.ok((t.snapshotsInstalled ?? 0) > 5, `snapshotsInstalled=${t.snapshotsInstalled}`);
    assert.ok((t.leaderWritesBeside ?? 0) > 1000, `leaderWritesBeside=${t.leaderWritesBeside}`);
    assert.ok((t.leaderWritesLost ?? 0) > 0, `leaderWritesLost=${t.leaderWritesLost}`);
    assert.ok((t.pendingPuts ?? 0) > 50, `pendingPuts=${t.pendingPuts}`);
    assert.ok((t.leaderTerms ?? 0) > 36 * 3, `leaderTerms=${t.leaderTerms}`);
    assert.ok((t.committedUnderFaults ?? 0) > 36 * 50, `committedUnderFaults=${t.committedUnderFaults}`);
  });
});

describe('simulation: determinism', function () {
  this.timeout(30_000);

  it('replays a seed exactly: same seed, same trace hash and same trace', () => {
    const a = runSimulation({ seed: 1234, verbose: true });
    const b = runSimulation({ seed: 1234, verbose: true });
    assert.equal(a.traceHash, b.traceHash);
    assert.deepEqual(a.trace, b.trace);
    assert.deepEqual(a.stats, b.stats);
    // Tracing must not change the schedule it records.
    assert.equal(runSimulation({ seed: 1234 }).traceHash, a.traceHash);
  });

  it('gives different seeds different schedules', () => {
    const hashes = new Set([1, 2, 3, 4, 5].map((seed) => runSimulation({ seed }).traceHash));
    assert.equal(hashes.size, 5);
  });
});

describe('simulation: fault toggles', function () {
  this.timeout(30_000);

  it('runs fault-free when every fault is off', () => {
    const none = Object.fromEntries(FAULT_NAMES.map((f) => [f, false])) as unknown as FaultToggles;
    const r = runSimulation({ seed: 3, faults: none });
    assert.ok(r.ok, describeFailure(r));
    assert.equal(r.stats.crashes, 0);
    assert.equal(r.stats.partitions, 0);
    assert.equal(r.stats.dropped, 0);
    assert.equal(r.stats.confChanges, 0);
    assert.equal(r.stats.leaderTerms, 1, 'one election and no disruption');
  });

  for (const f of FAULT_NAMES) {
    it(`passes with only ${f} turned off`, () => {
      const r = runSimulation({ seed: 5, faults: { [f]: false } as Partial<FaultToggles> as FaultToggles });
      assert.ok(r.ok, describeFailure(r));
    });
  }
});
