// The test-host lab: N hosts h1..hN as network namespaces on one bridge, one tswarmd per host.
//
//   const lab = await Lab.up(3, { prefix: 'tswt', subnet: '192.168.214.0/24' });
//   await lab.tswarm('h1', 'info');            // → { code, stdout, stderr }
//   await lab.exec('h2', ['ping', '-c1', '192.168.214.11']);
//   await lab.down();
//
// State lives in /run/tswarm-lab/<prefix>/ (lab.json + per host data/, tswarm.sock, tswarmd.log,
// tswarmd.pid), so the lab CLI, tests and the demo can drive a lab another process brought up.
// Labs with different prefixes coexist; `up` first removes whatever a crashed run with the same
// prefix left behind.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import {
  HostState, LabOptions, LabState, checkPrefix, defaultPrefix, labFile, planLab, readLabState, stateDir, tswarmdPath,
} from './config.js';
import * as daemon from './daemon.js';
import { createHost, createSwitch, netnsInode } from './netns.js';
import { run, RunOptions, RunResult } from './proc.js';
import { teardown, TeardownReport } from './teardown.js';

export interface HostStatus {
  name: string;
  netns: string;
  address: string;
  /** The host's namespace exists. */
  netnsUp: boolean;
  /** PID from the pid file, if any. */
  pid?: number;
  /** That PID is alive and is a tswarmd. */
  daemonAlive: boolean;
  socket: string;
}

export class Lab {
  private constructor(readonly state: LabState) {}

  /**
   * Brings up `n` hosts and (unless `startDaemons: false`) their daemons, waiting until every
   * daemon answers `tswarm info`. Clears a previous lab with the same prefix first. On failure
   * it removes what it built (unless keepOnFailure) and throws one line with the daemon's log tail.
   */
  static async up(n: number, opts: LabOptions = {}): Promise<Lab> {
    const state = planLab(n, opts);
    if (process.getuid?.() !== 0) throw new Error('the lab needs root (network namespaces); run it as root');
    const startDaemons = opts.startDaemons ?? true;
    if (startDaemons && !existsSync(tswarmdPath(state))) {
      throw new Error(`${tswarmdPath(state)} is missing; build the repository first (npm run build)`);
    }
    await teardown(state.prefix);
    const lab = new Lab(state);
    try {
      mkdirSync(stateDir(state.prefix), { recursive: true });
      for (const h of state.hosts) mkdirSync(h.dataDir, { recursive: true, mode: 0o700 });
      writeFileSync(labFile(state.prefix), JSON.stringify(state, null, 2) + '\n');
      await createSwitch(state);
      // One host at a time: `ip netns add` sets up the shared /run/netns mount on first use,
      // which is racy when several run at once; each host takes ~10 ms anyway.
      for (const h of state.hosts) await createHost(state, h);
      if (startDaemons) {
        const pids = state.hosts.map((h) => daemon.startDaemon(state, h));
        const timeoutMs = opts.readyTimeoutMs ?? 30_000;
        await Promise.all(state.hosts.map((h, i) => daemon.waitReady(state, h, pids[i]!, timeoutMs)));
      }
    } catch (e) {
      const keep = opts.keepOnFailure ?? process.env['TSWARM_LAB_KEEP'] === '1';
      if (!keep) {
        await teardown(state.prefix).catch(() => undefined);
        throw new Error(`lab up failed: ${(e as Error).message}`);
      }
      throw new Error(`lab up failed (lab "${state.prefix}" left up for inspection; remove it with: npm run lab -- down): ${(e as Error).message}`);
    }
    return lab;
  }

  /** The lab another process brought up, from its lab.json. */
  static attach(prefix: string = defaultPrefix()): Lab {
    return new Lab(readLabState(checkPrefix(prefix)));
  }

  /** Removes lab `prefix` (running, half-built or crashed); see teardown.ts for the order. */
  static destroy(prefix: string = defaultPrefix()): Promise<TeardownReport> {
    return teardown(prefix);
  }

  get prefix(): string {
    return this.state.prefix;
  }

  get hosts(): readonly HostState[] {
    return this.state.hosts;
  }

  host(name: string): HostState {
    const h = this.state.hosts.find((x) => x.name === name);
    if (!h) throw new Error(`no host "${name}" in lab ${this.prefix} (hosts: ${this.state.hosts.map((x) => x.name).join(', ')})`);
    return h;
  }

  /**
   * Runs argv inside the host's namespace with TSWARM_HOST pointing at its daemon. A leading
   * `tswarm` becomes `node <repo>/cmd/tswarm/tswarm.js`, so scripts read like a user's shell.
   */
  exec(host: string, argv: string[], opts: RunOptions = {}): Promise<RunResult> {
    return run(this.execArgv(host, argv), { ...opts, env: { ...this.env(host), ...opts.env } });
  }

  /** The full argv `exec` runs, for callers that spawn it themselves (the CLI, with a TTY). */
  execArgv(host: string, argv: string[]): string[] {
    if (argv.length === 0) throw new Error('nothing to run: give a command after the host');
    const cmd = argv[0] === 'tswarm' ? daemon.tswarmArgv(this.state, argv.slice(1)) : argv;
    return ['ip', 'netns', 'exec', this.host(host).netns, ...cmd];
  }

  /** The environment `exec` uses on a host. */
  env(host: string): NodeJS.ProcessEnv {
    return daemon.hostEnv(this.state, this.host(host));
  }

  /** `tswarm ARGS` on a host. */
  tswarm(host: string, ...args: string[]): Promise<RunResult> {
    return daemon.tswarmOn(this.state, this.host(host), args);
  }

  /** Starts the host's daemon (again) and waits until it answers; returns its PID. */
  async startDaemon(host: string, readyTimeoutMs = 30_000): Promise<number> {
    const h = this.host(host);
    const pid = daemon.startDaemon(this.state, h);
    await daemon.waitReady(this.state, h, pid, readyTimeoutMs);
    return pid;
  }

  /** Stops the host's daemon gracefully (SIGTERM; SIGKILL after `graceMs`). */
  stopDaemon(host: string, graceMs?: number): Promise<void> {
    return daemon.stopDaemon(this.host(host), graceMs);
  }

  /** SIGKILLs the host's daemon as a crash would, leaving pid file and socket; returns the PID. */
  killDaemon(host: string): Promise<number | undefined> {
    return daemon.killDaemon(this.host(host));
  }

  /** PID of the host's live daemon, or undefined. */
  daemonPid(host: string): number | undefined {
    return daemon.livePid(this.host(host));
  }

  /** The inode of the host's network namespace (compare with /proc/PID/ns/net). */
  netnsInode(host: string): number | undefined {
    return netnsInode(this.host(host).netns);
  }

  status(): HostStatus[] {
    return this.state.hosts.map((h) => {
      const pid = daemon.readPid(h);
      return {
        name: h.name,
        netns: h.netns,
        address: h.address,
        netnsUp: netnsInode(h.netns) !== undefined,
        ...(pid !== undefined ? { pid } : {}),
        daemonAlive: daemon.livePid(h) !== undefined,
        socket: h.socket,
      };
    });
  }

  /** Removes the whole lab. */
  down(): Promise<TeardownReport> {
    return teardown(this.prefix);
  }
}
