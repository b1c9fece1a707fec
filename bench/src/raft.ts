import { readFileSync } from 'node:fs';
import { EtcdCluster } from './etcd-peer.js';
import { closedLoop, LoadResult, Put } from './load.js';
import { TswarmCluster } from './tswarm-peer.js';

/** Client counts per row, as the issue asks: one writer, a busy service, a crowd. */
const DEFAULT_CLIENT_ROWS = [1, 16, 256];
const VALUE_BYTES = 256;
/** Seconds per row; long enough for steady state, short enough to keep the run near a minute. */
const ROW_SECONDS = Number(process.env['BENCH_ROW_SECONDS'] ?? 5);
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

/** CPU a process has used so far (user + system), from /proc, in ms; NaN once it is gone. */
function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return NaN;
  }
}
/** USER_HZ: 100 on every Linux this runs on (getconf CLK_TCK). */
const CLOCK_TICKS = 100;

/** Peak resident memory of a process, from /proc, in MiB. */
function peakRssMiB(pid: number): number {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
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
  /** Per row, the CPU all members used per acknowledged write, in ms (summed over members). */
  memberCpuMsPerWrite: number[];
  rssMiB: number[];
}

export async function measure(side: Side, clientRows: number[]): Promise<Measured> {
  await side.start();
  try {
    const put = side.put();
    for (const w of WARMUP) await closedLoop(put, w.clients, w.seconds * 1000, VALUE_BYTES);
    const rows: LoadResult[] = [];
    const memberCpuMsPerWrite: number[] = [];
    const membersCpu = () => side.pids().reduce((sum, pid) => sum + cpuMs(pid), 0);
    for (const c of clientRows) {
      const before = membersCpu();
      const row = await closedLoop(put, c, ROW_SECONDS * 1000, VALUE_BYTES);
      memberCpuMsPerWrite.push((membersCpu() - before) / row.writes);
      rows.push(row);
    }
    return { rows, memberCpuMsPerWrite, rssMiB: side.pids().map(peakRssMiB) };
  } finally {
    await side.stop();
  }
}

const f = (n: number, d = 0) => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

export async function raftBench(argv: string[] = process.argv.slice(3)): Promise<void> {
  const { rows: clientRows, sides } = parseArgs(argv);
  console.log(`raft benchmark: 3 members on 127.0.0.1, fsync on, ${VALUE_BYTES}-byte values, ${ROW_SECONDS}s per row, closed-loop clients`);
  console.log('peer: etcd 3.4 (Debian etcd-server), Node client etcd3 spreading over all 3 endpoints;');
  console.log('tswarm: 3 tswarmd managers (static raft group, --debug-api KV), gRPC client spreading over all 3;');
  console.log('each put is one store transaction = one Raft entry. Both sides run in turn on the same 2 cores.\n');
  const none: Measured = { rows: clientRows.map((clients) => ({ clients, writes: 0, seconds: 0, writesPerSec: NaN, p50Ms: NaN, p99Ms: NaN, driverCpuCores: NaN })), memberCpuMsPerWrite: clientRows.map(() => NaN), rssMiB: [] };
  const etcd = sides.has('etcd') ? await measure(new EtcdClusterSide(), clientRows) : none;
  const ours = sides.has('tswarm') ? await measure(new TswarmSide(), clientRows) : none;
  console.log('clients | etcd writes/s  p50 ms  p99 ms | tswarm writes/s  p50 ms  p99 ms | throughput ratio  p99 ratio | driver CPU etcd/tswarm | member CPU ms/write etcd/tswarm');
  for (let i = 0; i < clientRows.length; i++) {
    const e = etcd.rows[i]!;
    const t = ours.rows[i]!;
    console.log(`${String(t.clients).padStart(7)} | ${f(e.writesPerSec).padStart(13)} ${f(e.p50Ms, 2).padStart(7)} ${f(e.p99Ms, 2).padStart(7)} | ${f(t.writesPerSec).padStart(15)} ${f(t.p50Ms, 2).padStart(7)} ${f(t.p99Ms, 2).padStart(7)} | ${f(t.writesPerSec / e.writesPerSec, 2).padStart(15)}x ${f(t.p99Ms / e.p99Ms, 2).padStart(9)}x | ${f(e.driverCpuCores, 2)} / ${f(t.driverCpuCores, 2)} cores | ${f(etcd.memberCpuMsPerWrite[i]!, 2)} / ${f(ours.memberCpuMsPerWrite[i]!, 2)}`);
  }
  console.log(`peak RSS per member MiB: etcd ${etcd.rssMiB.map((r) => f(r)).join('/')}, tswarmd ${ours.rssMiB.map((r) => f(r)).join('/')}`);
  const last = clientRows.length - 1;
  console.log(`raft ${clientRows[last]}-client throughput ratio tswarm/etcd: ${f(ours.rows[last]!.writesPerSec / etcd.rows[last]!.writesPerSec, 2)}x`);
}

export class EtcdClusterSide extends EtcdCluster implements Side {
  name = 'etcd';
}

export class TswarmSide extends TswarmCluster implements Side {
  name = 'tswarm';
}
