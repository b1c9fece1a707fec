// One Docker Engine per lab host: a dockerd started inside the host's network namespace, with its
// own data root, exec root, pid file and socket under the host's state directory
// (/run/tswarm-lab/<prefix>/hN/docker/). Used by the Docker Swarm peer (where each engine then
// joins a swarm) and by tswarm's engine-per-host lab (where each host's tswarmd drives its own
// engine through --docker-host; no swarm mode). How, and why each step is needed, is in
// shared/MACHINE-NOTES.md ("Running Docker Swarm as a peer"):
// - `ip netns exec` remounts /sys, hiding the cgroup mounts: a wrapper remounts them first;
// - `unshare --uts` + `hostname hN`, so every engine has its own hostname;
// - its own key file per engine (daemon.json "deprecated-key-path"), so engine IDs differ;
// - DOCKER_SERVICE_PREFER_OFFLINE_IMAGE=1: Swarm services never ask a registry;
// - no registry at all: the image is copied from the machine's engine with `docker save | load`.
// Each engine's containers go under the cgroup parent /<prefix>-hN, so clean-up can find any
// container process an engine left behind.
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { HostState, STATE_ROOT } from '@tswarm/e2e';
import { DockerApi } from './docker-api.js';
import { endProcess, GiveUp, pidAlive, readPidFile, run, RunResult, runOk, until } from './exec.js';

const DOCKERD_READY_MS = 30_000;
/** dockerd stops its containers and containerd on SIGTERM; this covers a slow shutdown. */
const DOCKERD_STOP_GRACE_MS = 20_000;
const IMAGE_COPY_MS = 60_000;

export interface Engine {
  host: HostState;
  dir: string;
  socket: string;
  pidFile: string;
  logFile: string;
  api: DockerApi;
}

/** The engine's directory for host `hostName` of lab `prefix` (known before the lab exists). */
export function engineDir(prefix: string, hostName: string): string {
  return path.join(STATE_ROOT, prefix, hostName, 'docker');
}

/** `unix://…` address of that engine's socket, for `docker -H` and tswarmd's --docker-host. */
export function engineSocketUrl(prefix: string, hostName: string): string {
  return `unix://${path.join(engineDir(prefix, hostName), 'docker.sock')}`;
}

export function engineOf(host: HostState): Engine {
  const dir = path.join(host.dir, 'docker');
  const socket = path.join(dir, 'docker.sock');
  return { host, dir, socket, pidFile: path.join(dir, 'dockerd.pid'), logFile: path.join(dir, 'dockerd.log'), api: new DockerApi(socket) };
}

/**
 * Starts one dockerd per host (in parallel), waits until each answers, and loads `image` from the
 * machine's own engine into each. Throws one line with the failing engine's log tail; leaves
 * clean-up to the caller (`destroyEngines`).
 */
export async function startEngines(hosts: readonly HostState[], prefix: string, image: string): Promise<Engine[]> {
  const engines = hosts.map(engineOf);
  const tar = path.join(STATE_ROOT, prefix, 'image.tar');
  await runOk(['docker', 'save', '-o', tar, image], { timeoutMs: IMAGE_COPY_MS });
  try {
    await Promise.all(engines.map(async (e) => {
      const pid = startDockerd(e, prefix);
      await until(`dockerd on ${e.host.name} to answer`, async () => {
        if (!pidAlive(pid)) throw new GiveUp(`dockerd on ${e.host.name} exited`);
        await e.api.get('/_ping');
        return true;
      }, DOCKERD_READY_MS, 200).catch((err: Error) => {
        throw new Error(`${err.message}; log ${e.logFile}: ${logTail(e.logFile)}`);
      });
      await runOk(['docker', '-H', `unix://${e.socket}`, 'load', '-q', '-i', tar], { timeoutMs: IMAGE_COPY_MS });
    }));
  } finally {
    rmSync(tar, { force: true });
  }
  return engines;
}

/** `docker -H <engine> ARGS`, from the root namespace (the socket is a file). */
export function dockerOn(e: Engine, args: string[], timeoutMs = 60_000): Promise<RunResult> {
  return run(['docker', '-H', `unix://${e.socket}`, ...args], { timeoutMs });
}

/** Force-removes every container of every engine through its API (while the engines answer). */
export async function removeEngineContainers(engines: readonly Engine[]): Promise<void> {
  await Promise.all(engines.map(async (e) => {
    const all = await e.api.get<Array<{ Id: string }>>('/containers/json', { all: 1 }).catch(() => []);
    await Promise.all(all.map((c) => e.api.delete(`/containers/${c.Id}`, { force: 1, v: 1 }).catch(() => undefined)));
  }));
}

export function dockerdPid(e: Engine): number | undefined {
  return readPidFile(e.pidFile);
}

/** The containerd that the engine's dockerd started for itself (its child). */
export function containerdPid(e: Engine): number | undefined {
  const parent = dockerdPid(e);
  if (parent === undefined) return undefined;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === parent && comm === 'containerd') return Number(d);
    } catch {
      /* gone meanwhile */
    }
  }
  return undefined;
}

/**
 * Stops the engines of lab `prefix` in whatever state they are (also ones a killed run left),
 * from pid files alone: each dockerd (SIGTERM, which stops its containers and containerd;
 * SIGKILL after a grace period), then any container process left in the engines' cgroups, whose
 * directories are removed. Namespaces and the state directory are the caller's (Lab.destroy,
 * which also ends containerd and shims left in the namespaces). Every step runs; the errors are
 * thrown together at the end.
 */
export async function destroyEngines(prefix: string): Promise<void> {
  const errors: string[] = [];
  const dir = path.join(STATE_ROOT, prefix);
  const hosts = existsSync(dir) ? readdirSync(dir).filter((h) => /^h\d+$/.test(h)) : [];
  await Promise.all(hosts.map(async (h) => {
    const pid = readPidFile(path.join(dir, h, 'docker', 'dockerd.pid'));
    if (pid !== undefined) await endProcess(pid, 'dockerd', DOCKERD_STOP_GRACE_MS).catch((err: Error) => errors.push(err.message));
  }));
  const ours = new Set<string>();
  for (const hierarchy of existsSync('/sys/fs/cgroup') ? readdirSync('/sys/fs/cgroup') : []) {
    const d = path.join('/sys/fs/cgroup', hierarchy);
    try {
      for (const c of readdirSync(d)) if (c.startsWith(`${prefix}-h`)) ours.add(c);
    } catch {
      /* not a directory */
    }
  }
  for (const c of ours) await removeCgroups(c).catch((err: Error) => errors.push(err.message));
  if (errors.length) throw new Error(`engines of lab ${prefix}: ${errors.join('; ')}`);
}

/** Starts the host's dockerd detached, inside its namespace, through the cgroup/hostname wrapper. */
function startDockerd(e: Engine, prefix: string): number {
  mkdirSync(e.dir, { recursive: true });
  writeFileSync(path.join(e.dir, 'daemon.json'), JSON.stringify({ 'deprecated-key-path': path.join(e.dir, 'key.json') }) + '\n');
  const dockerd = [
    'dockerd', '--data-root', path.join(e.dir, 'data'), '--exec-root', path.join(e.dir, 'exec'), '--pidfile', e.pidFile,
    '-H', `unix://${e.socket}`, '--config-file', path.join(e.dir, 'daemon.json'),
    '--cgroup-parent', `/${prefix}-${e.host.name}`, '--log-level', 'warn',
  ];
  const script = ['set -e', ...cgroupRemounts(), `hostname ${e.host.name}`, `exec ${dockerd.join(' ')}`].join('\n');
  const fd = openSync(e.logFile, 'a');
  try {
    const child = spawn('ip', ['netns', 'exec', e.host.netns, 'unshare', '--uts', 'sh', '-c', script], {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, DOCKER_SERVICE_PREFER_OFFLINE_IMAGE: '1' },
    });
    child.on('error', () => undefined); // seen as a dockerd that never answers
    child.unref();
    // ip netns exec, unshare and sh all exec in place: this PID becomes dockerd's.
    return child.pid ?? -1;
  } finally {
    closeSync(fd);
  }
}

/** Mount options that are not cgroup controllers or hierarchy names. */
const GENERIC_MOUNT_OPTS = new Set(['rw', 'ro', 'relatime', 'noatime', 'strictatime', 'nodiratime', 'nosuid', 'nodev', 'noexec']);

/**
 * Shell lines that rebuild, in the fresh /sys `ip netns exec` mounted, the root namespace's
 * cgroup mounts under /sys/fs/cgroup (v1 controllers on a tmpfs, or the v2 unified tree).
 */
function cgroupRemounts(): string[] {
  const mounts = readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => l.split(' '))
    .filter((f) => f.length >= 4 && f[1]!.startsWith('/sys/fs/cgroup'));
  const root = mounts.find((f) => f[1] === '/sys/fs/cgroup');
  if (root?.[2] === 'cgroup2') return ['mount -t cgroup2 cgroup2 /sys/fs/cgroup'];
  const v1 = mounts.filter((f) => f[2] === 'cgroup');
  if (v1.length === 0) throw new Error('no cgroup mounts under /sys/fs/cgroup in the root namespace; dockerd needs them');
  const lines = ['mount -t tmpfs cgroup_root /sys/fs/cgroup'];
  for (const f of v1) {
    const opts = f[3]!.split(',').filter((o) => !GENERIC_MOUNT_OPTS.has(o));
    // A named hierarchy without controllers (name=systemd) must say "none".
    if (opts.every((o) => o.startsWith('name='))) opts.unshift('none');
    lines.push(`mkdir -p ${f[1]}`, `mount -t cgroup -o ${opts.join(',')} cgroup ${f[1]}`);
  }
  return lines;
}

/**
 * Kills any process left in cgroup `/<name>` of every hierarchy (only an engine of this lab
 * puts containers there) and removes the cgroup directories, deepest first. A killed process
 * takes a moment to leave its cgroup, so removal is retried for a few seconds.
 */
async function removeCgroups(name: string): Promise<void> {
  const dirs: string[] = [];
  const walk = (d: string) => {
    dirs.push(d);
    for (const ent of readdirSync(d, { withFileTypes: true })) if (ent.isDirectory()) walk(path.join(d, ent.name));
  };
  for (const hierarchy of readdirSync('/sys/fs/cgroup')) {
    const top = path.join('/sys/fs/cgroup', hierarchy, name);
    if (existsSync(top)) walk(top);
  }
  for (const d of dirs) {
    const procs = path.join(d, 'cgroup.procs');
    if (!existsSync(procs)) continue;
    for (const pid of readFileSync(procs, 'utf8').split('\n').filter(Boolean).map(Number)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  dirs.reverse(); // children before parents
  await until(`cgroups /${name} to be removable`, async () => {
    for (const d of dirs) {
      try {
        if (existsSync(d)) rmdirSync(d);
      } catch (e) {
        return `${d}: ${(e as Error).message}`;
      }
    }
    return true;
  }, 5000, 100);
}

function logTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-3).join(' | ') || '(log empty)';
  } catch {
    return '(no log)';
  }
}
