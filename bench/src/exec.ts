// Commands, polling and processes for the benchmarks that drive whole clusters. Every wait here
// is bounded, so a benchmark always stops by itself.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pidAlive } from '@tswarm/e2e';

export interface RunResult {
  /** Exit code; 128 + signal number when killed by a signal (137 after the timeout). */
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs argv (no shell), collecting its output; SIGKILLs it after `timeoutMs`. Never rejects. */
export function run(argv: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: stderr + `${argv[0]}: ${e.message}\n` });
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal === 'SIGKILL' ? 137 : 128), stdout, stderr });
    });
  });
}

/** Runs argv and returns its stdout; rejects with one line naming the command when it fails. */
export async function runOk(argv: string[], opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<string> {
  const r = await run(argv, opts);
  if (r.code !== 0) {
    const why = r.stderr.trim().split('\n')[0] || `exit code ${r.code}`;
    throw new Error(`${argv.slice(0, 4).join(' ')}…: ${why}`);
  }
  return r.stdout;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Thrown by an `until` check to stop waiting at once (the awaited thing can no longer happen). */
export class GiveUp extends Error {}

/**
 * Polls `check` every `pollMs` until it returns true; rejects after `timeoutMs` with
 * "timed out after N s waiting for WHAT (last: …)". A string result is remembered for that
 * message. A check that throws counts as "not yet", except with GiveUp, which ends the wait.
 */
export async function until(what: string, check: () => Promise<boolean | string>, timeoutMs: number, pollMs = 100): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const r = await check();
      if (r === true) return;
      if (typeof r === 'string') last = r;
    } catch (e) {
      if (e instanceof GiveUp) throw e;
      last = (e as Error).message;
    }
    if (performance.now() >= deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? ` (last: ${last})` : ''}`);
    await sleep(pollMs);
  }
}

/** True when PID exists and is not a zombie (the lab's definition, shared). */
export { pidAlive };

/** Reads a pid file; undefined when it is missing or holds no PID. */
export function readPidFile(file: string): number | undefined {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Ends PID: SIGTERM, SIGKILL after `graceMs`, and waits (5 s at most) for it to be gone.
 * Only when its command line still contains `mark`, so a recycled PID is never hit.
 */
export async function endProcess(pid: number, mark: string, graceMs: number): Promise<void> {
  const cmdline = (() => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      return '';
    }
  })();
  if (!pidAlive(pid) || !cmdline.includes(mark)) return;
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(pid, s);
    } catch {
      /* already gone */
    }
  };
  signal('SIGTERM');
  const gone = () => Promise.resolve(!pidAlive(pid));
  try {
    await until(`process ${pid} to exit`, gone, graceMs, 50);
  } catch {
    signal('SIGKILL');
    await until(`process ${pid} to die after SIGKILL`, gone, 5000, 50);
  }
}

/** Peak resident memory of a process (VmHWM from /proc), in MiB; NaN when it is gone. */
export function peakRssMiB(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** CPU a process has used so far (user + system, all threads), in ms; NaN when it is gone. */
export function cpuMs(pid: number): number {
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

/** Throws one line naming the package to install when `cmd` is not on the PATH. */
export function requireCommand(cmd: string, pkg: string): void {
  const r = spawnSync(cmd, ['--version'], { stdio: 'ignore' });
  if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') {
    throw new Error(`${cmd} is not installed: the benchmark needs Debian's ${pkg} (bash scripts/host-setup.sh installs it)`);
  }
}

/**
 * The processes one side of a benchmark spawned and the scratch directory they write in:
 * `stop()` ends the processes (SIGTERM, then waits for each to exit) and removes the directory.
 */
export class ChildGroup {
  private procs: ChildProcess[] = [];
  /** The scratch directory; '' until makeDir(). */
  dir = '';

  makeDir(prefix: string): string {
    this.dir = mkdtempSync(path.join(os.tmpdir(), prefix));
    return this.dir;
  }

  add<P extends ChildProcess>(p: P): P {
    this.procs.push(p);
    return p;
  }

  pids(): number[] {
    return this.procs.map((p) => p.pid!).filter(Boolean);
  }

  async stop(): Promise<void> {
    await Promise.all(this.procs.map((p) => new Promise<void>((resolve) => {
      if (p.exitCode !== null || p.signalCode !== null) return resolve();
      p.once('exit', () => resolve());
      p.kill('SIGTERM');
    })));
    this.procs = [];
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = '';
  }
}
