// The statistics behind every benchmark's key ratio and its interval.
import { strict as assert } from 'node:assert';
import { seededRng } from '@tswarm/api';
import { bootstrapInterval, bootstrapIntervals, formatInterval, median, quantile } from '../src/stats.js';

describe('benchmark statistics', () => {
  it('takes the lower median and nearest-rank quantiles, NaN for no samples', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2);
    assert.ok(Number.isNaN(median([])));
    const xs = Array.from({ length: 100 }, (_, i) => 100 - i);
    assert.equal(quantile(xs, 0.99), 99);
    assert.equal(quantile(xs, 0.5), 50);
    assert.equal(quantile(xs, 1), 100);
  });

  it('brackets a paired ratio by its spread: narrow for steady pairs, wide for noisy ones', () => {
    const rnd = seededRng(3);
    const peer = Array.from({ length: 30 }, () => 20 + 10 * rnd());
    const steady = peer.map((p) => p * 0.9);
    const noisy = peer.map((p) => p * (0.6 + 0.6 * rnd()));
    const ratioOfMedians = (ours: number[]) => (idx: readonly number[]) =>
      median(idx.map((i) => ours[i]!)) / median(idx.map((i) => peer[i]!));
    const [lo, hi] = bootstrapInterval(30, ratioOfMedians(steady));
    assert.ok(lo <= 0.9 && hi >= 0.9, `steady ${lo}–${hi} should hold 0.9`);
    assert.ok(hi - lo < 0.05, `steady pairs give a narrow interval, got ${lo}–${hi}`);
    const [nlo, nhi] = bootstrapInterval(30, ratioOfMedians(noisy));
    assert.ok(nhi - nlo > 2 * (hi - lo), `noisy pairs give a wider interval: ${nlo}–${nhi} against ${lo}–${hi}`);
  });

  it('is reproducible for one seed and gives one interval per statistic', () => {
    const xs = [5, 9, 2, 7, 4, 8];
    const stat = (idx: readonly number[]) => median(idx.map((i) => xs[i]!));
    assert.deepEqual(bootstrapInterval(xs.length, stat, { seed: 11 }), bootstrapInterval(xs.length, stat, { seed: 11 }));
    const [m, max] = bootstrapIntervals(xs.length, (idx) => [stat(idx), Math.max(...idx.map((i) => xs[i]!))]);
    assert.ok(m![0] >= 2 && m![1] <= 9);
    assert.ok(max![0] <= max![1] && max![1] === 9);
  });

  it('has no interval for fewer than two pairs, and says so', () => {
    assert.deepEqual(bootstrapInterval(1, () => 1).map(Number.isNaN), [true, true]);
    assert.equal(formatInterval(bootstrapInterval(1, () => 1)), '–');
    assert.equal(formatInterval([0.814, 0.926]), '0.81–0.93');
  });
});
