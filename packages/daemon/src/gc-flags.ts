// V8 garbage-collector settings for the tswarmd process, applied once at start (main).
import { setFlagsFromString } from 'node:v8';

/**
 * Young-generation collections (scavenges) copy on the main thread alone. A parallel scavenge
 * hands parts of its copying to helper threads and waits for them; on a host whose cores are
 * busy — a manager's Raft work beside the other members', any host's containers — the helpers
 * are not run promptly and the pause grows. Measured (2026-11-28, raft bench, 256 clients,
 * 3 members and the load on 2 cores): scavenges paused a member 16–19 ms on average, 14–17 ms
 * of it in the parallel phase, to copy ≈ 3.7 MB; without it the 256-client p99 fell to 0.865×
 * and 0.889× (raft-ab, both start orders), throughput 1.03× / 1.00×. Marking stays concurrent:
 * all background GC off (--single-threaded-gc) measured worse, p99 1.19× / 1.18×.
 */
const SCAVENGE_ON_MAIN_THREAD = '--no-parallel-scavenge';

/** What the operator's own node flags (command line or NODE_OPTIONS) already decide. */
const OPERATOR_CHOICE = /--(no-)?(parallel-scavenge|single-threaded-gc)(?=[\s=]|$)/;

/** The GC flags to set: none when the operator chose for themselves. */
export function gcFlags(execArgv: readonly string[], nodeOptions: string): string[] {
  return OPERATOR_CHOICE.test([...execArgv, nodeOptions].join(' ')) ? [] : [SCAVENGE_ON_MAIN_THREAD];
}

/** Sets gcFlags() for this process; V8 reads them at each collection, so setting them now takes effect. */
export function applyGcFlags(): string[] {
  const flags = gcFlags(process.execArgv, process.env['NODE_OPTIONS'] ?? '');
  for (const f of flags) setFlagsFromString(f);
  return flags;
}
