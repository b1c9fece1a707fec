// Merging a row's slices: the row's figures are those of one run as long as all its slices.
import { strict as assert } from 'node:assert';
import { mergedLatencies, mergeLoads, percentile, type LoadResult } from '../src/load.js';

const slice = (latenciesMs: number[], seconds = 1): LoadResult => ({
  clients: 4, writes: latenciesMs.length, seconds, writesPerSec: latenciesMs.length / seconds, p50Ms: NaN, p99Ms: NaN, driverCpuCores: 0.5, latenciesMs,
});

describe('load slices', () => {
  it('merges slices into one ascending row with its rate, p50 and p99 by rank', () => {
    const row = mergeLoads([slice([1, 5, 9]), slice([2, 3], 2)]);
    assert.deepEqual(row.latenciesMs, [1, 2, 3, 5, 9]);
    assert.equal(row.writes, 5);
    assert.equal(row.writesPerSec, 5 / 3);
    assert.equal(row.p50Ms, 3);
    assert.equal(row.p99Ms, 9);
    assert.equal(row.driverCpuCores, 0.5);
  });

  it('sorts numerically, not as text, and counts a slice drawn twice twice', () => {
    assert.deepEqual(Array.from(mergedLatencies([slice([10, 9, 100]), slice([10, 9, 100])])), [9, 9, 10, 10, 100, 100]);
    assert.equal(percentile(mergedLatencies([slice(Array.from({ length: 200 }, (_, i) => 200 - i))]), 0.99), 199);
    assert.ok(Number.isNaN(percentile(mergedLatencies([]), 0.5)));
  });
});
