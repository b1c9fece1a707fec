import { EtcdCluster } from './etcd-peer.js';
import { cpuMs, peakRssMiB } from './exec.js';
import { closedLoop, LoadResult, mergedLatencies, mergeLoads, percentile, Put } from './load.js';
import { bootstrapIntervals, formatInterval } from './stats.js';
import { TswarmCluster } from './tswarm-peer.js';

/** Client counts per row, as the issue asks: one writer, a busy service, a crowd. */
const DEFAULT_CLIENT_ROWS = [1, 16, 256];
const VALUE_BYTES = 256;
/**
 * Seconds per row and side. 15 since 2026-11-28: at 5 the 256-client p99 is the 150 slowest of
 * ≈ 15,000 writes and its interval spanned ±30 % (0.71–1.46 in one run); at 20 it narrowed to
 * ±10–12 %. The whole run takes about four minutes.
 */
const ROW_SECONDS = Number(process.env['BENCH_ROW_SECONDS'] ?? 15);
/**
 * Every side is up at once and a row alternates between them in slices (ABBA…), with a short
 * pause between slices. Measured back to back instead, the same code gave single-client ratios
 * of 1.22x and 2.12x in two runs a minute apart (2026-11-27): this machine's speed drifts over
 * minutes, and whichever side ran in the slow minute lost. Slices spread the drift over both.
 */
const SLICE_SECONDS = 1;
const SLICE_PAUSE_MS = 200;
/**
 * Warm-up before the rows, the same on both sides: a crowd, a busy service, then one writer.
 * tswarmd runs on V8, whose optimising compiler needs tens of thousands of calls of the write
 * path before it settles. Measured here (2026-11-27, 5-s windows at 1 client): after the old
 * warm-up (3 s at 256 clients, 1 s at 1) the first window's members spent 1.1-1.3 ms of CPU per
 * write, ~100 functions per member were still being optimised on V8's background threads, and
 * only after ~30 s at 1 client did it settle at 0.65-0.8 ms; 10 s at 16 clients reaches that
 * steady state at once. A long-running manager is always warm; etcd (Go) needs no warm-up.
 */
const WARMUP: Array<{ clients: number; seconds: number }> = [{ clients: 256, seconds: 3 }, { clients: 16, seconds: 10 }, { clients: 1, seconds: 3 }];

export interface Side {
  name: string;
  start(): Promise<void>;
  put(): Put;
  pids(): number[];
  stop(): Promise<void>;
}

/**
 * `npm run bench -- raft [--clients 1,256] [--sides tswarm]`: a subset of rows or sides while
 * iterating; the full run (all rows, both sides) is what the docs record.
 */
function parseArgs(argv: string[]): { rows: number[]; sides: Set<string> } {
  const opt = (name: string) => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const clients = opt('--clients');
  const rows = clients ? clients.split(',').map(Number) : DEFAULT_CLIENT_ROWS;
  if (rows.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--clients takes a comma-separated list of positive integers, got "${clients}"`);
  const sides = new Set((opt('--sides') ?? 'etcd,tswarm').split(','));
  for (const s of sides) if (s !== 'etcd' && s !== 'tswarm') throw new Error(`--sides takes etcd and/or tswarm, got "${s}"`);
  return { rows, sides };
}

export interface Measured {
  rows: LoadResult[];
  /** Per row, its slices in the order they ran (slice k of every side ran back to back). */
  slices: LoadResult[][];
  /** Per row, the CPU all members used per acknowledged write, in ms (summed over members). */
  memberCpuMsPerWrite: number[];
  rssMiB: number[];
}

/** All sides started, warmed up one after another, then each row measured in alternating slices. */
export async function measure(sides: readonly Side[], clientRows: readonly number[]): Promise<Measured[]> {
  const started: Side[] = [];
  try {
    for (const side of sides) {
      // Pushed first: a side whose start fails halfway still stops its processes and removes its directory.
      started.push(side);
      await side.start();
    }
    const puts = sides.map((side) => side.put());
    for (const put of puts) for (const w of WARMUP) await closedLoop(put, w.clients, w.seconds * 1000, VALUE_BYTES);
    const out: Measured[] = sides.map(() => ({ rows: [], slices: [], memberCpuMsPerWrite: [], rssMiB: [] }));
    const slicesPerRow = Math.max(1, Math.round(ROW_SECONDS / SLICE_SECONDS));
    for (const clients of clientRows) {
      const slices: LoadResult[][] = sides.map(() => []);
      const cpuMsUsed = sides.map(() => 0);
      for (let k = 0; k < slicesPerRow; k++) {
        const order = sides.map((_, i) => (k % 2 === 0 ? i : sides.length - 1 - i));
        for (const i of order) {
          await new Promise((r) => setTimeout(r, SLICE_PAUSE_MS));
          const before = membersCpuMs(sides[i]!);
          slices[i]!.push(await closedLoop(puts[i]!, clients, SLICE_SECONDS * 1000, VALUE_BYTES));
          cpuMsUsed[i]! += membersCpuMs(sides[i]!) - before;
        }
      }
      sides.forEach((_, i) => {
        const row = mergeLoads(slices[i]!);
        out[i]!.rows.push(row);
        out[i]!.slices.push(slices[i]!);
        out[i]!.memberCpuMsPerWrite.push(cpuMsUsed[i]! / row.writes);
      });
    }
    sides.forEach((side, i) => (out[i]!.rssMiB = side.pids().map(peakRssMiB)));
    return out;
  } finally {
    for (const side of started) await side.stop();
  }
}

/**
 * How far a row's ratios tswarm/etcd could move by chance: slice k of both sides ran back to
 * back, so a resample draws whole pairs of slices and merges them as the row does.
 */
function sliceRatioIntervals(etcd: readonly LoadResult[], ours: readonly LoadResult[]): Record<'throughput' | 'p50' | 'p99', [number, number]> {
  const [throughput, p50, p99] = bootstrapIntervals(Math.min(etcd.length, ours.length), (idx) => {
    const t = summarize(ours, idx);
    const e = summarize(etcd, idx);
    return [t.writesPerSec / e.writesPerSec, t.p50Ms / e.p50Ms, t.p99Ms / e.p99Ms];
  });
  return { throughput: throughput!, p50: p50!, p99: p99! };
}

/** The figures mergeLoads gives for the slices at `idx` (with repeats), without building a LoadResult. */
function summarize(slices: readonly LoadResult[], idx: readonly number[]): { writesPerSec: number; p50Ms: number; p99Ms: number } {
  const picked = idx.map((i) => slices[i]!);
  const all = mergedLatencies(picked);
  const seconds = picked.reduce((t, s) => t + s.seconds, 0);
  return { writesPerSec: all.length / seconds, p50Ms: percentile(all, 0.5), p99Ms: percentile(all, 0.99) };
}

function membersCpuMs(side: Side): number {
  return side.pids().reduce((sum, pid) => sum + cpuMs(pid), 0);
}

const f = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

export async function raftBench(argv: string[] = process.argv.slice(3)): Promise<void> {
  const { rows: clientRows, sides } = parseArgs(argv);
  console.log(`raft benchmark: 3 members on 127.0.0.1, fsync on, ${VALUE_BYTES}-byte values, ${ROW_SECONDS}s per row, closed-loop clients`);
  console.log('peer: etcd 3.4 (Debian etcd-server), Node client etcd3 spreading over all 3 endpoints;');
  console.log('tswarm: 3 tswarmd managers (static raft group, --debug-api KV), gRPC client spreading over all 3;');
  console.log('each put is one store transaction = one Raft entry. Both clusters are up at once on the same 2 cores;');
  console.log(`each row alternates between them in ${SLICE_SECONDS}-s slices (ABBA), ${ROW_SECONDS} s per side.\n`);
  const none: Measured = { slices: clientRows.map(() => []), rows: clientRows.map((clients) => ({ clients, writes: 0, seconds: 0, writesPerSec: NaN, p50Ms: NaN, p99Ms: NaN, driverCpuCores: NaN, latenciesMs: [] })), memberCpuMsPerWrite: clientRows.map(() => NaN), rssMiB: [] };
  const chosen: Side[] = [...(sides.has('etcd') ? [new EtcdClusterSide()] : []), ...(sides.has('tswarm') ? [new TswarmSide()] : [])];
  const measured = await measure(chosen, clientRows);
  const bySide = (name: string) => measured[chosen.findIndex((s) => s.name === name)] ?? none;
  const etcd = bySide('etcd');
  const ours = bySide('tswarm');
  console.log('clients | etcd writes/s  p50 ms  p99 ms | tswarm writes/s  p50 ms  p99 ms | throughput ratio  p99 ratio | driver CPU etcd/tswarm | member CPU ms/write etcd/tswarm');
  for (let i = 0; i < clientRows.length; i++) {
    const e = etcd.rows[i]!;
    const t = ours.rows[i]!;
    console.log(`${String(t.clients).padStart(7)} | ${f(e.writesPerSec).padStart(13)} ${f(e.p50Ms, 2).padStart(7)} ${f(e.p99Ms, 2).padStart(7)} | ${f(t.writesPerSec).padStart(15)} ${f(t.p50Ms, 2).padStart(7)} ${f(t.p99Ms, 2).padStart(7)} | ${f(t.writesPerSec / e.writesPerSec, 2).padStart(15)}x ${f(t.p99Ms / e.p99Ms, 2).padStart(9)}x | ${f(e.driverCpuCores, 2)} / ${f(t.driverCpuCores, 2)} cores | ${f(etcd.memberCpuMsPerWrite[i]!, 2)} / ${f(ours.memberCpuMsPerWrite[i]!, 2)}`);
  }
  console.log(`peak RSS per member MiB: etcd ${etcd.rssMiB.map((r) => f(r)).join('/')}, tswarmd ${ours.rssMiB.map((r) => f(r)).join('/')}`);
  const intervals = clientRows.map((_, i) => sliceRatioIntervals(etcd.slices[i]!, ours.slices[i]!));
  console.log('95 % intervals of the ratios tswarm/etcd over each row\'s slices (resampled in pairs):');
  clientRows.forEach((clients, i) => {
    const iv = intervals[i]!;
    console.log(`${String(clients).padStart(7)} clients: throughput ${formatInterval(iv.throughput)}, p50 ${formatInterval(iv.p50)}, p99 ${formatInterval(iv.p99)}`);
  });
  const last = clientRows.length - 1;
  console.log(`raft ${clientRows[last]}-client throughput ratio tswarm/etcd: ${f(ours.rows[last]!.writesPerSec / etcd.rows[last]!.writesPerSec, 2)}x (95 % interval over the slices ${formatInterval(intervals[last]!.throughput)})`);
}

export class EtcdClusterSide extends EtcdCluster implements Side {
  name = 'etcd';
}

export class TswarmSide extends TswarmCluster implements Side {
  name = 'tswarm';
}
