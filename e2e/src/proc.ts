// Running commands and handling processes by PID for the lab. Everything here is asynchronous
// and never throws a multi-line error: a failed command becomes one line naming the command and
// the first line of what it printed on stderr.
import { spawn, SpawnOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface RunResult {
  /** Exit code; 128 + signal number when killed by a signal (as a shell reports it). */
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** Kill the command (SIGKILL) after this long; the result then has code 137. */
  timeoutMs?: number;
  input?: string;
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/** Runs argv (no shell) and collects its output. Never rejects on a non-zero exit. */
export function run(argv: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      env: opts.env ?? process.env,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    const timer = opts.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs) : undefined;
    child.on('error', (e) => {
      if (timer) clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: stderr + `${argv[0]}: ${e.message}\n` });
    });
    child.on('close', (code, signal) => {
      if (timer) clearTimeout(timer);
      resolve({ code: code ?? 128 + (signal ? SIGNALS[signal] ?? 0 : 0), stdout, stderr });
    });
  });
}

/** Runs argv and returns its stdout; rejects with a one-line error when it exits non-zero. */
export async function runOk(argv: string[], opts: RunOptions = {}): Promise<string> {
  const r = await run(argv, opts);
  if (r.code !== 0) throw new Error(`${argv.join(' ')}: ${firstLine(r.stderr) || `exit code ${r.code}`}`);
  return r.stdout;
}

/** Starts argv detached in its own session, output appended to `logFd`; returns its PID. */
export function spawnDetached(argv: string[], logFd: number, env: NodeJS.ProcessEnv): number {
  const opts: SpawnOptions = { detached: true, stdio: ['ignore', logFd, logFd], env };
  const child = spawn(argv[0]!, argv.slice(1), opts);
  // An exec failure (ENOENT) arrives as an 'error' event; the caller sees the PID die instead.
  child.on('error', () => {});
  child.unref();
  if (child.pid === undefined) throw new Error(`could not start ${argv[0]}`);
  return child.pid;
}

/**
 * True when PID exists and is not a zombie. A killed daemon stays a zombie until its parent
 * reaps it (Node reaps its own children; init reaps the CLI's orphans), and a zombie holds no
 * sockets or namespaces, so for the lab it is as good as dead.
 */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 3 (state) follows the command name in parentheses, which may itself contain spaces.
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** The command line of PID as one space-separated string, or '' when it is gone. */
export function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls until PID is dead or `timeoutMs` passes; returns whether it died. */
export async function waitDead(pid: number, timeoutMs: number): Promise<boolean> {
  const POLL_MS = 50; // short: a daemon exits within a few hundred ms of SIGTERM
  for (let waited = 0; ; waited += POLL_MS) {
    if (!pidAlive(pid)) return true;
    if (waited >= timeoutMs) return false;
    await sleep(POLL_MS);
  }
}

/**
 * Ends PID: SIGTERM, then SIGKILL after `graceMs` (0 = SIGKILL at once). Returns after it is
 * dead. Only signals the PID when its command line still contains `mustContain`, so a recycled
 * PID from a stale pid file is never hit.
 */
export async function endProcess(pid: number, mustContain: string, graceMs: number): Promise<void> {
  if (!pidAlive(pid) || !cmdlineOf(pid).includes(mustContain)) return;
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(pid, s);
    } catch {
      /* already gone */
    }
  };
  if (graceMs > 0) {
    signal('SIGTERM');
    if (await waitDead(pid, graceMs)) return;
  }
  signal('SIGKILL');
  if (!(await waitDead(pid, 5000))) throw new Error(`process ${pid} survived SIGKILL`);
}

export function firstLine(s: string): string {
  return s.trim().split('\n')[0] ?? '';
}

/** The last `n` non-empty lines of a file (except those starting with `skip`) joined with " | ", for one-line errors. */
export function tailOf(path: string, n: number, skip?: string): string {
  try {
    const lines = readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l.trim() !== '' && !(skip && l.startsWith(skip)));
    return lines.slice(-n).join(' | ') || '(log empty)';
  } catch {
    return '(no log)';
  }
}
