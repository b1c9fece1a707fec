// Helpers for end-to-end tests that drive a swarm on lab hosts through the tswarm CLI,
// as a user would: one-line assertions on exit codes, JSON lines from `--format json`,
// and bounded polling.
import { Lab } from './lab.js';
import { RunResult, run } from './proc.js';

/** Runs `tswarm ARGS` on a host and requires exit 0; returns stdout. */
export async function tswarmOk(lab: Lab, host: string, ...args: string[]): Promise<string> {
  const r = await lab.tswarm(host, ...args);
  if (r.code !== 0) throw new Error(`tswarm ${args.join(' ')} on ${host} exited ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`);
  return r.stdout;
}

/** Parses `--format json` output: one JSON object per line. */
export function jsonLines<T = Record<string, string>>(out: string): T[] {
  return out.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as T);
}

/** Polls `probe` every 100 ms until it returns a value other than undefined. */
export async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`${what}: not within ${timeoutMs} ms${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface TaskRow {
  ID: string;
  Name: string;
  Node: string;
  DesiredState: string;
  CurrentState: string;
  Error: string;
}

/** The service's tasks meant to run, as `service ps` shows them. */
export async function runningTasks(lab: Lab, host: string, service: string): Promise<TaskRow[]> {
  const rows = jsonLines<TaskRow>(await tswarmOk(lab, host, 'service', 'ps', '--format', 'json', service));
  return rows.filter((t) => t.DesiredState === 'Running' && t.CurrentState.startsWith('Running'));
}

/** Initializes a swarm on `first` and joins the others with the given roles. */
export async function formSwarm(lab: Lab, first: string, joiners: Record<string, 'worker' | 'manager'>, initArgs: string[] = []): Promise<void> {
  await tswarmOk(lab, first, 'swarm', 'init', ...initArgs);
  const addr = `${lab.host(first).address}:2377`;
  for (const [host, role] of Object.entries(joiners)) {
    const token = (await tswarmOk(lab, first, 'swarm', 'join-token', '-q', role)).trim();
    await tswarmOk(lab, host, 'swarm', 'join', '--token', token, addr);
  }
}

/** Containers of the lab in the shared engine with a label filter, as `docker ps -q` IDs. */
export async function labContainers(lab: Lab, ...filters: string[]): Promise<string[]> {
  const args = ['docker', 'ps', '-q', '--filter', `label=com.tswarm.lab=${lab.prefix}`, ...filters.flatMap((f) => ['--filter', f])];
  const r: RunResult = await run(args);
  return r.stdout.split('\n').filter(Boolean);
}
