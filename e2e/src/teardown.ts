// Removing a lab, whether it went down cleanly or crashed: it relies on names and pid files, not
// on lab.json or on any process still being alive, so it also clears a half-built or crashed lab.
import { existsSync, readdirSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { LAB_LABEL, STATE_ROOT, checkPrefix, stateDir } from './config.js';
import { DAEMON_MARK } from './daemon.js';
import { endProcess, pidAlive, run } from './proc.js';
import { deleteNetns, deleteRootLink, labNetns, listRootLinks, netnsPids } from './netns.js';

/** How long daemons get to exit after SIGTERM when the whole lab goes down. */
const DOWN_GRACE_MS = 3000;

export interface TeardownReport {
  killed: number[];
  containers: string[];
  netns: string[];
  links: string[];
  stateDir: boolean;
}

/** PIDs from every `<stateDir>/<host>/tswarmd.pid`. */
function pidFilePids(dir: string): number[] {
  let hosts: string[];
  try {
    hosts = readdirSync(dir);
  } catch {
    return [];
  }
  const pids: number[] = [];
  for (const h of hosts) {
    try {
      const pid = Number(readFileSync(path.join(dir, h, 'tswarmd.pid'), 'utf8').trim());
      if (Number.isInteger(pid) && pid > 0) pids.push(pid);
    } catch {
      /* no pid file: that host's daemon was never started or was stopped */
    }
  }
  return pids;
}

/** Removes Docker containers labelled com.tswarm.lab=<prefix>; skipped when Docker is down. */
async function removeContainers(prefix: string): Promise<string[]> {
  if (!existsSync('/var/run/docker.sock')) return [];
  const ps = await run(['docker', 'ps', '-aq', '--filter', `label=${LAB_LABEL}=${prefix}`], { timeoutMs: 20_000 });
  const ids = ps.code === 0 ? ps.stdout.split('\n').filter((l) => l !== '') : [];
  if (ids.length > 0) {
    const rm = await run(['docker', 'rm', '-f', '-v', ...ids], { timeoutMs: 60_000 });
    if (rm.code !== 0) throw new Error(`docker rm of lab containers failed: ${rm.stderr.trim().split('\n')[0]}`);
  }
  return ids;
}

/**
 * Removes everything of lab `prefix`, in an order where nothing is pulled from under a live user:
 * 1. daemons found through pid files (SIGTERM, SIGKILL after DOWN_GRACE_MS; only PIDs whose
 *    /proc/PID/cmdline still says tswarmd), then any other process left inside the lab's
 *    namespaces (e.g. an iperf3 a test started with `exec`) — all of them are ours;
 * 2. Docker containers labelled com.tswarm.lab=<prefix>;
 * 3. namespaces named `<prefix>-…` (their links and the bridge go with them);
 * 4. root-namespace links named `<prefix>-…` (none unless a run leaked one);
 * 5. the state directory.
 * Every step runs even when an earlier one failed; the first error is thrown at the end.
 */
export async function teardown(prefix: string): Promise<TeardownReport> {
  checkPrefix(prefix);
  const dir = stateDir(prefix);
  const report: TeardownReport = { killed: [], containers: [], netns: [], links: [], stateDir: false };
  const errors: string[] = [];
  const attempt = async <T>(what: string, f: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await f();
    } catch (e) {
      errors.push(`${what}: ${(e as Error).message}`);
      return undefined;
    }
  };

  await attempt('stopping daemons', async () => {
    const pids = pidFilePids(dir).filter(pidAlive);
    await Promise.all(pids.map((pid) => endProcess(pid, DAEMON_MARK, DOWN_GRACE_MS)));
    report.killed.push(...pids);
  });
  const namespaces = (await attempt('listing namespaces', () => labNetns(prefix))) ?? [];
  await attempt('stopping processes in the lab namespaces', async () => {
    const pids = (await Promise.all(namespaces.map(netnsPids))).flat().filter(pidAlive);
    // These processes live inside namespaces this lab created, so whatever they are, they are
    // the lab's; `mustContain: ''` accepts any command line.
    await Promise.all(pids.map((pid) => endProcess(pid, '', DOWN_GRACE_MS)));
    report.killed.push(...pids);
  });
  report.containers = (await attempt('removing containers', () => removeContainers(prefix))) ?? [];
  for (const ns of namespaces) {
    if (await attempt(`deleting namespace ${ns}`, () => deleteNetns(ns).then(() => true))) report.netns.push(ns);
  }
  const links = (await attempt('listing links', () => listRootLinks(`${prefix}-`))) ?? [];
  for (const l of links) {
    if (await attempt(`deleting link ${l}`, () => deleteRootLink(l).then(() => true))) report.links.push(l);
  }
  if (existsSync(dir)) {
    await attempt(`removing ${dir}`, async () => rmSync(dir, { recursive: true, force: true }));
    report.stateDir = !existsSync(dir);
  }
  // The shared root goes too once no other lab uses it (rmdir refuses while it is not empty).
  try {
    rmdirSync(STATE_ROOT);
  } catch {
    /* another lab is up, or it is already gone */
  }
  if (errors.length > 0) throw new Error(`lab ${prefix} down: ${errors.join('; ')}`);
  return report;
}
