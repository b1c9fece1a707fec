/** One write against the system under test; resolves when it is acknowledged. */
export type Put = (key: string, value: Buffer) => Promise<void>;

export interface LoadResult {
  clients: number;
  writes: number;
  seconds: number;
  writesPerSec: number;
  p50Ms: number;
  p99Ms: number;
  /** CPU the load driver itself used, as a share of one core, so its cost is visible. */
  driverCpuCores: number;
  /** Every write's latency, ascending (for merging slices). */
  latenciesMs: number[];
}

/** The sample at rank ⌊n·p⌋ of an ascending array (the rows' p50 and p99); NaN for none. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
}

/** Every latency of `slices`, ascending, in one typed array (a numeric sort: a bootstrap sorts thousands). */
export function mergedLatencies(slices: readonly LoadResult[]): Float64Array {
  const all = new Float64Array(slices.reduce((n, s) => n + s.latenciesMs.length, 0));
  let at = 0;
  for (const s of slices) {
    all.set(s.latenciesMs, at);
    at += s.latenciesMs.length;
  }
  return all.sort();
}

/** One result from slices of the same load (same client count), as if it had run in one piece. */
export function mergeLoads(slices: readonly LoadResult[]): LoadResult {
  const latenciesMs = Array.from(mergedLatencies(slices));
  const seconds = slices.reduce((t, s) => t + s.seconds, 0);
  const cpuSeconds = slices.reduce((t, s) => t + s.driverCpuCores * s.seconds, 0);
  return {
    clients: slices[0]?.clients ?? 0, writes: latenciesMs.length, seconds, writesPerSec: latenciesMs.length / seconds,
    p50Ms: percentile(latenciesMs, 0.5), p99Ms: percentile(latenciesMs, 0.99), driverCpuCores: cpuSeconds / seconds, latenciesMs,
  };
}

/**
 * A closed-loop load: `clients` concurrent writers, each issuing its next write as soon as
 * the previous one is acknowledged, for `durationMs`. Keys are spread over 1,000 names per
 * client so no single key is hot. Bounded in time, so it always stops by itself.
 */
export async function closedLoop(put: Put, clients: number, durationMs: number, valueBytes: number): Promise<LoadResult> {
  const value = Buffer.alloc(valueBytes, 0x61);
  const latencies: number[] = [];
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const end = t0 + durationMs;
  let failures = 0;
  const worker = async (c: number) => {
    for (let i = 0; performance.now() < end; i++) {
      const s = performance.now();
      try {
        await put(`bench/${c}/${i % 1000}`, value);
        latencies.push(performance.now() - s);
      } catch (e) {
        if (++failures > 100) throw new Error(`too many failed writes; last: ${(e as Error).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: clients }, (_, c) => worker(c)));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  latencies.sort((a, b) => a - b);
  return {
    clients, writes: latencies.length, seconds, writesPerSec: latencies.length / seconds,
    p50Ms: percentile(latencies, 0.5), p99Ms: percentile(latencies, 0.99), driverCpuCores: (cpu.user + cpu.system) / 1e6 / seconds,
    latenciesMs: latencies,
  };
}
