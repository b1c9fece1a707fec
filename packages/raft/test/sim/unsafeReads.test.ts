// The deliberately broken build. With --unsafe-local-reads a node that
// believes it is leader answers gets from its own state, skipping ReadIndex's
// quorum round (thesis §6.4). A leader cut off by a partition keeps believing
// it leads (forever without check-quorum, for up to an election timeout with
// it) while a new leader commits writes, so it serves stale values. The
// checker must catch that on some seed of a small fixed range — and the same
// seeds must pass with ReadIndex, or the checker would be failing everything.

import assert from 'node:assert/strict';
import { runSimulation } from './simulator.js';

const SEEDS = Array.from({ length: 30 }, (_, i) => i + 1);

describe('simulation: a deliberately broken read path is caught', function () {
  this.timeout(60_000);

  it('finds a non-linearizable history with unsafe local reads on seeds 1..30', () => {
    const failures = SEEDS.map((seed) => runSimulation({ seed, unsafeLocalReads: true })).filter((r) => !r.ok);
    assert.ok(failures.length > 0, 'the checker accepted every history of a build that serves stale reads');
    for (const r of failures) {
      // Only reads are broken: every other invariant must still hold.
      assert.equal(r.failure, 'linearizability', `seed ${r.seed}: ${r.failure}: ${r.detail}`);
    }
  });

  it('passes the same seeds with ReadIndex reads', () => {
    for (const seed of SEEDS) {
      const r = runSimulation({ seed });
      assert.ok(r.ok, `seed ${seed} failed ${r.failure}: ${r.detail}`);
      assert.equal(r.linearizable, 'ok');
    }
  });
});
