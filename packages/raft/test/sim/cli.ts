// The simulator's command line:
//
//   npm run sim -- --seeds 500 --start 1            run seeds 1..500
//   npm run sim -- --seeds 1 --start 1234 --verbose  replay one seed with its trace
//
// Options: --nodes 3|5, --steps N (faulty-phase length in ticks), --clients N,
// --keys N, --disk wal|model (the real WAL, default, or the simulator's
// entry-level disk model), --unsafe-local-reads, --no-<fault> to turn one fault off (faults:
// loss duplicate reorder delay partition asymmetric partial crash torn drift
// membership transfer), --no-faults to turn them all off.
//
// One line per failing seed carries the exact command that replays it; the
// last line is always "N passed, N failed"; exit code 1 if any seed failed.

import { ALL_FAULTS, FAULT_NAMES, type FaultToggles } from './faults.js';
import { DEFAULT_OPTIONS, runSimulation, type SimOptions, type SimResult } from './simulator.js';

interface CliOptions {
  seeds: number;
  start: number;
  sim: Omit<SimOptions, 'seed'>;
  /** The non-default options, repeated in replay commands. */
  passthrough: string[];
}

class UsageError extends Error {}

function parseArgs(argv: string[]): CliOptions {
  const faults: FaultToggles = { ...ALL_FAULTS };
  const sim: Omit<SimOptions, 'seed'> = { ...DEFAULT_OPTIONS, faults };
  const out: CliOptions = { seeds: 100, start: 1, sim, passthrough: [] };
  const int = (flag: string, v: string | undefined, min: number): number => {
    const n = Number(v);
    if (v === undefined || !Number.isInteger(n) || n < min) throw new UsageError(`${flag} needs an integer >= ${min}, got ${v ?? 'nothing'}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '--seeds': out.seeds = int(a, argv[++i], 1); break;
      case '--start': out.start = int(a, argv[++i], 0); break;
      case '--verbose': sim.verbose = true; break;
      case '--nodes': sim.nodes = int(a, argv[++i], 1); out.passthrough.push(a, String(sim.nodes)); break;
      case '--steps': sim.steps = int(a, argv[++i], 1); out.passthrough.push(a, String(sim.steps)); break;
      case '--clients': sim.clients = int(a, argv[++i], 1); out.passthrough.push(a, String(sim.clients)); break;
      case '--keys': sim.keys = int(a, argv[++i], 1); out.passthrough.push(a, String(sim.keys)); break;
      case '--disk': {
        const d = argv[++i];
        if (d !== 'wal' && d !== 'model') throw new UsageError(`--disk is wal or model, got ${d ?? 'nothing'}`);
        sim.disk = d;
        out.passthrough.push(a, d);
        break;
      }
      case '--unsafe-local-reads': sim.unsafeLocalReads = true; out.passthrough.push(a); break;
      case '--no-faults':
        for (const f of FAULT_NAMES) faults[f] = false;
        out.passthrough.push(a);
        break;
      case '--help': case '-h':
        throw new UsageError('usage: npm run sim -- [--seeds N] [--start S] [--nodes 3|5] [--steps N] [--clients N] [--keys N] ' +
          `[--disk wal|model] [--verbose] [--unsafe-local-reads] [--no-faults] [--no-<fault>] (faults: ${FAULT_NAMES.join(' ')})`);
      default: {
        const f = a.startsWith('--no-') ? (a.slice(5) as keyof FaultToggles) : undefined;
        if (f === undefined || !FAULT_NAMES.includes(f)) {
          throw new UsageError(`unknown option ${a}; try --help`);
        }
        faults[f] = false;
        out.passthrough.push(a);
      }
    }
  }
  return out;
}

function replayCommand(seed: number, passthrough: string[]): string {
  return ['npm run sim --', '--seeds 1', `--start ${seed}`, ...passthrough, '--verbose'].join(' ');
}

function printVerbose(r: SimResult): void {
  for (const line of r.trace) console.log(line);
  console.log(`seed ${r.seed}: ${r.ok ? 'ok' : `FAILED (${r.failure})`}; trace ${r.traceHash}; linearizability: ${r.linearizable}`);
  console.log(`stats: ${JSON.stringify(r.stats)}`);
  if (r.detail) console.log(r.detail);
}

function main(): number {
  let opts: CliOptions;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`Error: ${err.message}`);
      return 1;
    }
    throw err;
  }
  let passed = 0;
  let failed = 0;
  let unknown = 0;
  const t0 = process.hrtime.bigint();
  for (let seed = opts.start; seed < opts.start + opts.seeds; seed++) {
    const r = runSimulation({ ...opts.sim, seed });
    if (opts.sim.verbose) printVerbose(r);
    if (r.linearizable === 'unknown') unknown++;
    if (r.ok) {
      passed++;
      continue;
    }
    failed++;
    const why = (r.detail ?? '').split('\n')[0];
    console.log(`FAIL seed ${seed}: ${r.failure}: ${why} — replay: ${replayCommand(seed, opts.passthrough)}`);
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const perSeedMs = (seconds * 1000) / opts.seeds;
  console.log(`${opts.seeds} seeds in ${seconds.toFixed(1)} s (${perSeedMs.toFixed(0)} ms/seed, ` +
    `${Math.round(60_000 / perSeedMs)} seeds/min); linearizability unknown (checker budget) on ${unknown}`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

process.exitCode = main();
