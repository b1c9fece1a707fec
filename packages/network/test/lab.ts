// A tiny lab for the integration tests: "hosts" are network namespaces joined by one veth,
// "containers" are processes in fresh network namespaces (`unshare -n`). Everything is named
// with LAB_PREFIX and removed by `destroy`, which ends only the processes it started (by PID).
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger, waitUntil, type Logger } from '@tswarm/api';
import { LinuxDataplane, execRunner, type CommandRunner, type LinuxDataplaneOptions } from '../src/index.js';

export const LAB_PREFIX = 'tswnt';

/** A data plane for `nodeId` whose kernel tools run inside lab host `host`, silent, with no periodic resync; `extra` adds or overrides options. */
export function labDataplane(nodeId: string, host: string, extra: Partial<LinuxDataplaneOptions> = {}): Promise<LinuxDataplane> {
  return LinuxDataplane.create({ nodeId, namePrefix: LAB_PREFIX, logger: silentLogger, runner: labRunner(host), resyncIntervalMs: 0, ...extra });
}

/** How labDataplane runs kernel tools: each command entered into lab host `host` (wrap it to watch them). */
export function labRunner(host: string): CommandRunner {
  return execRunner(['nsenter', `--net=/run/netns/${host}`]);
}

/** A logger that keeps every warning (message and fields) in `into` and drops the rest: a data plane that did not apply something says so there. */
export function warningRecorder(into: string[]): Logger {
  const log: Logger = { ...silentLogger, warn: (m, f) => into.push(`${m} ${JSON.stringify(f)}`), child: () => log };
  return log;
}

/**
 * Waits until `holds` — a read of kernel state — answers true, reading again as soon as each
 * answer comes (a failed read counts as false); rejects after `timeoutMs` naming `what`.
 */
export async function eventually(what: string, holds: () => Promise<boolean>, timeoutMs = 3_000): Promise<void> {
  let held = false;
  let stop = false;
  const reads = (async () => {
    while (!held && !stop) held = await holds().catch(() => false);
  })();
  try {
    await waitUntil(what, () => held, timeoutMs);
  } finally {
    stop = true;
    await reads;
  }
}

export function sh(argv: readonly string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(argv[0]!, argv.slice(1), { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${argv.join(' ')}: ${stderr || err.message}`));
      else resolve(stdout);
    });
    child.stdin?.on('error', () => undefined); // the command may exit without reading stdin
    child.stdin?.end(input ?? '');
  });
}

/** Like sh but resolves with {ok, out} instead of rejecting. */
export async function trySh(argv: readonly string[]): Promise<{ ok: boolean; out: string }> {
  try {
    return { ok: true, out: await sh(argv) };
  } catch (e) {
    return { ok: false, out: (e as Error).message };
  }
}

export function inNs(ns: string, argv: readonly string[]): string[] {
  return ['nsenter', `--net=/run/netns/${ns}`, ...argv];
}

/** The tc filters on device `dev`'s ingress hook in namespace `ns` (the eBPF fast path's). */
export function ingressFilters(ns: string, dev: string): Promise<string> {
  return sh(inNs(ns, ['tc', 'filter', 'show', 'dev', dev, 'ingress']));
}

export class Lab {
  private readonly procs: ChildProcess[] = [];
  private readonly dirs: string[] = [];
  private readonly dataplanes: LinuxDataplane[] = [];

  /**
   * Hosts `<prefix>-h1…hN` on 192.168.251.0/24 (.1, .2, …), joined pairwise-by-bridge-free veth (2 hosts).
   * Whatever a crashed earlier run left under the prefix is removed first.
   */
  async hosts(n: 2): Promise<string[]> {
    for (const ns of listLabNetns()) await trySh(['ip', 'netns', 'del', ns]);
    const names = Array.from({ length: n }, (_, i) => `${LAB_PREFIX}-h${i + 1}`);
    for (const h of names) {
      await sh(['ip', 'netns', 'add', h]);
      await sh(['ip', '-n', h, 'link', 'set', 'lo', 'up']);
    }
    await sh(['ip', '-n', names[0]!, 'link', 'add', 'eth0', 'type', 'veth', 'peer', 'name', 'eth0', 'netns', names[1]!]);
    for (const [i, h] of names.entries()) {
      await sh(['ip', '-n', h, 'addr', 'add', `192.168.251.${i + 1}/24`, 'dev', 'eth0']);
      await sh(['ip', '-n', h, 'link', 'set', 'eth0', 'up']);
    }
    return names;
  }

  /** labDataplane, torn down by destroy (a test may close it before: closing again does nothing). */
  async dataplane(nodeId: string, host: string, extra: Partial<LinuxDataplaneOptions> = {}): Promise<LinuxDataplane> {
    const dp = await labDataplane(nodeId, host, extra);
    this.dataplanes.push(dp);
    return dp;
  }

  /** A "container": `argv` as PID 1-ish of a fresh network namespace; returns its PID. */
  container(argv: readonly string[]): number {
    const p = spawn('unshare', ['-n', ...argv], { stdio: 'ignore' });
    this.procs.push(p);
    return p.pid!;
  }

  /** `argv` run in the existing namespace `ns` (a container's handle), killed by destroy. */
  spawnIn(ns: string, argv: readonly string[]): void {
    this.procs.push(spawn('ip', ['netns', 'exec', ns, ...argv], { stdio: 'ignore' }));
  }

  /** A busybox httpd container answering `GET /` with `body`. */
  web(body: string): number {
    const dir = mkdtempSync(join(tmpdir(), `${LAB_PREFIX}-www-`));
    this.dirs.push(dir);
    writeFileSync(join(dir, 'index.html'), body);
    return this.container(['busybox', 'httpd', '-f', '-p', '80', '-h', dir]);
  }

  kill(pid: number): void {
    const p = this.procs.find((x) => x.pid === pid);
    if (p && p.exitCode === null) p.kill('SIGKILL');
  }

  async destroy(): Promise<void> {
    for (const dp of this.dataplanes) await dp.close({ teardown: true }).catch(() => undefined);
    for (const p of this.procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
    for (const ns of listLabNetns()) await trySh(['ip', 'netns', 'del', ns]);
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
  }
}

export function listLabNetns(): string[] {
  try {
    return readdirSync('/run/netns').filter((n) => n.startsWith(`${LAB_PREFIX}-`));
  } catch {
    return [];
  }
}

/** GET http://url from namespace `ns` with busybox wget under a 2 s timeout. */
export function httpGet(ns: string, url: string): Promise<{ ok: boolean; out: string }> {
  return trySh(inNs(ns, ['timeout', '2', 'busybox', 'wget', '-q', '-O', '-', url]));
}
