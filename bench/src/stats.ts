// Statistics the benchmarks share: medians, quantiles, and how far a ratio could move by chance.
//
// On this shared 2-core machine one 3-s iperf3 round or one 1-s load slice moves by ±10–30 %,
// so a ratio printed from a handful of them is uncertain by several per cent — more than some
// of the goals it is compared with (docs/BENCHMARKS.md). Each key ratio is therefore printed with
// a bootstrap interval over the run's own rounds or slices: the rounds are paired in time (the
// two sides alternate), so a resample draws whole pairs and the machine's drift stays paired.
import { seededRng } from '@tswarm/api';

/** The lower median (an observed sample, not an interpolation); NaN for none. */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor((s.length - 1) / 2)]!;
}

/** The smallest sample with at least a share `q` of the samples at or below it; NaN for none. */
export function quantile(xs: readonly number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
}

export interface BootstrapOptions {
  /** Resamples drawn; 1,000 puts the 2.5 % and 97.5 % points within a few tenths of a per cent. */
  resamples?: number;
  /** Share of the resampled statistics inside the interval. */
  level?: number;
  seed?: number;
}

/**
 * Percentile bootstrap interval of `statistic` over `n` paired observations: each resample
 * draws `n` indices with replacement and hands them to `statistic`. [NaN, NaN] when n < 2
 * (one pair says nothing about its own spread).
 */
export function bootstrapInterval(n: number, statistic: (indices: readonly number[]) => number, opts: BootstrapOptions = {}): [number, number] {
  return bootstrapIntervals(n, (indices) => [statistic(indices)], opts)[0] ?? [NaN, NaN];
}

/** The same for several statistics computed together on each resample (one interval each). */
export function bootstrapIntervals(n: number, statistics: (indices: readonly number[]) => readonly number[], opts: BootstrapOptions = {}): Array<[number, number]> {
  const resamples = opts.resamples ?? 1000;
  const level = opts.level ?? 0.95;
  // Seeded: the same run's data always gives the same interval.
  const random = seededRng(opts.seed ?? 1);
  const values: number[][] = [];
  const indices = new Array<number>(n);
  for (let r = 0; n >= 2 && r < resamples; r++) {
    for (let i = 0; i < n; i++) indices[i] = Math.floor(random() * n);
    statistics(indices).forEach((v, k) => (values[k] ??= []).push(v));
  }
  if (n < 2) return statistics(Array.from({ length: n }, (_, i) => i)).map(() => [NaN, NaN]);
  const tail = (1 - level) / 2;
  return values.map((vs) => {
    vs.sort((a, b) => a - b);
    return [vs[Math.floor(tail * (resamples - 1))]!, vs[Math.ceil((1 - tail) * (resamples - 1))]!];
  });
}

/** "0.81–0.93", or "–" when there is no interval. */
export function formatInterval([lo, hi]: readonly [number, number]): string {
  return Number.isNaN(lo) ? '–' : `${lo.toFixed(2)}–${hi.toFixed(2)}`;
}
