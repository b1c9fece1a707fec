// One tswarmd per lab host: started inside the host's namespace with `ip netns exec` (which execs
// in place, so the PID we record is node's own), detached in its own session so it outlives the
// process that started it (the lab CLI exits after `up`), output appended to the host's log.
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { HostState, LabState, tswarmdPath, tswarmPath } from './config.js';
import { endProcess, pidAlive, run, RunResult, sleep, spawnDetached, tailOf } from './proc.js';

/** What a live daemon's /proc/PID/cmdline contains; checked before any signal is sent. */
export const DAEMON_MARK = 'tswarmd';
/** A stopped daemon gets this long to shut down cleanly before SIGKILL (Docker's default is 10 s). */
export const STOP_GRACE_MS = 10_000;
const READY_POLL_MS = 200; // each poll runs the CLI once (~0.2 s of node start-up)
const LOG_TAIL_LINES = 5;
/** Starts the line the lab writes into a host's log before each start (left out of error tails). */
const LOG_HEADER = '--- lab start';

/** The PID recorded for a host, or undefined without a readable pid file. */
export function readPid(h: HostState): number | undefined {
  try {
    const pid = Number(readFileSync(h.pidFile, 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The PID of the host's daemon when it is alive and really is a tswarmd. */
export function livePid(h: HostState): number | undefined {
  const pid = readPid(h);
  if (pid === undefined || !pidAlive(pid)) return undefined;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(DAEMON_MARK) ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** argv for the CLI against a host's daemon; `tswarm` itself is node + the repo's entry point. */
export function tswarmArgv(lab: LabState, args: string[]): string[] {
  return [process.execPath, tswarmPath(lab), ...args];
}

/** Environment for commands run on a host: its daemon's socket, and the lab's name. */
export function hostEnv(lab: LabState, h: HostState): NodeJS.ProcessEnv {
  return { ...process.env, TSWARM_HOST: `unix://${h.socket}`, TSWARM_LAB: lab.prefix };
}

/** Runs `tswarm ARGS` inside the host's namespace. */
export function tswarmOn(lab: LabState, h: HostState, args: string[], timeoutMs = 60_000): Promise<RunResult> {
  return run(['ip', 'netns', 'exec', h.netns, ...tswarmArgv(lab, args)], { env: hostEnv(lab, h), timeoutMs });
}

/** Starts the host's daemon and records its PID; does not wait for it to answer. */
export function startDaemon(lab: LabState, h: HostState): number {
  const running = livePid(h);
  if (running !== undefined) throw new Error(`tswarmd on ${h.name} is already running (pid ${running})`);
  mkdirSync(h.dataDir, { recursive: true, mode: 0o700 });
  // A socket left by a killed daemon would make the readiness check below meaningless.
  rmSync(h.socket, { force: true });
  // nsenter, not `ip netns exec`: the latter also gives the process a private mount
  // namespace, and the namespaces tswarmd's data plane creates (overlay sandboxes, container
  // handles under /run/netns) would then exist only inside it — invisible to `lab down` and
  // the tests, and gone with the process. A real tswarmd shares the host's mounts; so does
  // this one. nsenter without --pid execs in place, so the pid below is the daemon's own.
  const argv = [
    'nsenter', `--net=/run/netns/${h.netns}`, '--',
    process.execPath, tswarmdPath(lab),
    '--data-dir', h.dataDir,
    '--host', `unix://${h.socket}`,
    '--docker-host', lab.dockerHost,
    '--log-level', lab.logLevel,
    '--node-name', h.name,
    ...(h.extraArgs ?? []),
  ];
  const fd = openSync(h.logFile, 'a');
  try {
    writeFileSync(h.logFile, `${LOG_HEADER} ${new Date().toISOString()}: ${argv.join(' ')}\n`, { flag: 'a' });
    // TSWARM_LAB tells the daemon which lab it belongs to, so it can label its Docker containers
    // com.tswarm.lab=<prefix> and name its namespaces after the prefix (see LAB_LABEL).
    const pid = spawnDetached(argv, fd, { ...process.env, TSWARM_LAB: lab.prefix });
    writeFileSync(h.pidFile, `${pid}\n`);
    return pid;
  } finally {
    closeSync(fd);
  }
}

/** Waits until the host's daemon answers `tswarm info`; a one-line error with the log tail if not. */
export async function waitReady(lab: LabState, h: HostState, pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    if (!pidAlive(pid)) {
      throw new Error(`tswarmd on ${h.name} (pid ${pid}) exited before answering; log ${h.logFile}: ${tailOf(h.logFile, LOG_TAIL_LINES, LOG_HEADER)}`);
    }
    if (existsSync(h.socket)) {
      // A hung CLI must not stretch the wait past the deadline.
      const r = await tswarmOn(lab, h, ['info'], Math.max(1000, Math.min(10_000, deadline - Date.now())));
      if (r.code === 0) return;
      last = r.stderr.trim().split('\n')[0] ?? '';
    }
    if (Date.now() >= deadline) {
      throw new Error(
        `tswarmd on ${h.name} (pid ${pid}) did not answer 'tswarm info' within ${timeoutMs / 1000} s` +
          `${last ? ` (${last})` : ''}; log ${h.logFile}: ${tailOf(h.logFile, LOG_TAIL_LINES, LOG_HEADER)}`,
      );
    }
    await sleep(READY_POLL_MS);
  }
}

/** Stops the host's daemon: SIGTERM, SIGKILL after `graceMs`. Removes its pid file. */
export async function stopDaemon(h: HostState, graceMs = STOP_GRACE_MS): Promise<void> {
  const pid = readPid(h);
  if (pid !== undefined) await endProcess(pid, DAEMON_MARK, graceMs);
  rmSync(h.pidFile, { force: true });
}

/**
 * Kills the host's daemon with SIGKILL, as a crash would: the pid file and socket stay behind,
 * as they would after a real crash, and `startDaemon`/`down` must cope with them.
 */
export async function killDaemon(h: HostState): Promise<number | undefined> {
  const pid = livePid(h);
  if (pid !== undefined) await endProcess(pid, DAEMON_MARK, 0);
  return pid;
}
