// `npm run bench -- raft-ab --b-repo DIR | --b-node-args '…' [--a-repo DIR] [--a-node-args '…']
// [--clients 1,256]`: whether a change to tswarm's write path pays, measured the way every
// decision in docs/BENCHMARKS.md ("Consensus") was: two tswarm clusters up at once, A as
// this checkout runs and B as the change runs (another checkout, built; or other Node flags
// for the members), the same warm-up, each row in alternating 1-s slices (see raft.ts). An
// A/A run showed that the cluster started second measures 1–3 % worse on p50 and up to 14 %
// on p99, so the whole measurement runs twice, A started first and then B started first, and
// both ratios are printed: a change pays when it wins in both positions.
import path from 'node:path';
import { measure, Measured, TswarmSide } from './raft.js';

interface Variant {
  repo: string;
  nodeArgs: string[];
}

function parseArgs(argv: string[]): { a: Variant; b: Variant; rows: number[] } {
  const opt = (name: string): string | undefined => {
    const i = argv.indexOf(name);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const here = path.resolve(__dirname, '../../..');
  const variant = (side: 'a' | 'b'): Variant => ({
    repo: path.resolve(opt(`--${side}-repo`) ?? here),
    nodeArgs: (opt(`--${side}-node-args`) ?? '').split(' ').filter(Boolean),
  });
  const a = variant('a');
  const b = variant('b');
  if (a.repo === b.repo && a.nodeArgs.join(' ') === b.nodeArgs.join(' ')) {
    throw new Error('raft-ab compares two variants: give --b-repo (a built checkout) and/or --b-node-args');
  }
  const clients = opt('--clients') ?? '1,256';
  const rows = clients.split(',').map(Number);
  if (rows.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--clients takes a comma-separated list of positive integers, got "${clients}"`);
  return { a, b, rows };
}

const ratio = (b: number, a: number): string => (b / a).toFixed(3);

function report(order: string, rows: number[], a: Measured, b: Measured): void {
  rows.forEach((clients, i) => {
    const ra = a.rows[i]!;
    const rb = b.rows[i]!;
    const cpuA = a.memberCpuMsPerWrite[i]!;
    const cpuB = b.memberCpuMsPerWrite[i]!;
    console.log(
      `${order.padEnd(15)} ${String(clients).padStart(4)} clients | A ${ra.writesPerSec.toFixed(0)} w/s p50 ${ra.p50Ms.toFixed(2)} p99 ${ra.p99Ms.toFixed(2)} cpu ${cpuA.toFixed(3)}`
      + ` | B ${rb.writesPerSec.toFixed(0)} w/s p50 ${rb.p50Ms.toFixed(2)} p99 ${rb.p99Ms.toFixed(2)} cpu ${cpuB.toFixed(3)}`
      + ` | B/A throughput ${ratio(rb.writesPerSec, ra.writesPerSec)} p50 ${ratio(rb.p50Ms, ra.p50Ms)} p99 ${ratio(rb.p99Ms, ra.p99Ms)} cpu ${ratio(cpuB, cpuA)}`,
    );
  });
}

export async function raftAbBench(argv: string[] = process.argv.slice(3)): Promise<void> {
  const { a, b, rows } = parseArgs(argv);
  const describe = (v: Variant) => `${v.repo}${v.nodeArgs.length ? ` with ${v.nodeArgs.join(' ')}` : ''}`;
  console.log(`raft A/B: A = ${describe(a)}\n           B = ${describe(b)}`);
  console.log('two tswarm clusters up at once, rows in alternating slices; run twice, A started first, then B (member CPU in ms per write).\n');
  for (const bFirst of [false, true]) {
    const sideA = new TswarmSide(24790, a.nodeArgs, a.repo);
    const sideB = new TswarmSide(25790, b.nodeArgs, b.repo);
    const measured = await measure(bFirst ? [sideB, sideA] : [sideA, sideB], rows);
    const [mA, mB] = bFirst ? [measured[1]!, measured[0]!] : [measured[0]!, measured[1]!];
    report(bFirst ? 'B started first' : 'A started first', rows, mA, mB);
  }
}
