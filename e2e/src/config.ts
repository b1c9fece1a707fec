// The lab's options, names and on-disk layout. Pure: no I/O except reading lab.json.
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** Root of every lab's state; one directory per prefix, so labs with different prefixes coexist. */
export const STATE_ROOT = '/run/tswarm-lab';
export const DEFAULT_PREFIX = 'tsw';
export const DEFAULT_SUBNET = '192.168.213.0/24';
/** Host hN gets the subnet's address + HOST_OFFSET + N (h1 = .11), leaving .1–.10 for extras. */
export const HOST_OFFSET = 10;
export const MAX_HOSTS = 32;
/** The underlay MTU; overlay interfaces get MTU - 50 (VXLAN overhead). */
export const UNDERLAY_MTU = 1500;
/** Docker label the daemons put on their containers so `down` can find a crashed lab's leftovers. */
export const LAB_LABEL = 'com.tswarm.lab';

export interface LabOptions {
  /** Names every namespace `<prefix>-…`; default env TSWARM_LAB_PREFIX or "tsw". */
  prefix?: string;
  /** Underlay subnet; default env TSWARM_LAB_SUBNET or 192.168.213.0/24. */
  subnet?: string;
  /** Repository root holding cmd/; default: three levels above this compiled file. */
  repoRoot?: string;
  /** Start one tswarmd per host (default true); false gives bare hosts. */
  startDaemons?: boolean;
  /** How long each daemon may take to answer `tswarm info` (default 30 s). */
  readyTimeoutMs?: number;
  logLevel?: string;
  dockerHost?: string;
  /** Keep namespaces and logs when `up` fails (default: env TSWARM_LAB_KEEP=1), for debugging. */
  keepOnFailure?: boolean;
  /** Extra tswarmd flags per host (e.g. a static raft group); recorded so restarts reuse them. */
  daemonArgs?: (host: { name: string; address: string }, all: Array<{ name: string; address: string }>) => string[];
}

export interface HostState {
  /** h1, h2, …; also passed to tswarmd as --node-name. */
  name: string;
  netns: string;
  /** Underlay IPv4 address of eth0 inside the host namespace. */
  address: string;
  dir: string;
  dataDir: string;
  socket: string;
  pidFile: string;
  logFile: string;
  /** Flags added to this host's tswarmd command line, every time it starts. */
  extraArgs: string[];
}

/** What lab.json records: enough for another process (the CLI) to drive or remove the lab. */
export interface LabState {
  prefix: string;
  subnet: string;
  prefixLength: number;
  repoRoot: string;
  /** Namespace holding the bridge (the "switch"), so the root namespace's netfilter never sees lab traffic. */
  switchNetns: string;
  bridge: string;
  mtu: number;
  dockerHost: string;
  logLevel: string;
  hosts: HostState[];
  createdAt: string;
}

export function defaultPrefix(): string {
  return process.env['TSWARM_LAB_PREFIX'] || DEFAULT_PREFIX;
}

/**
 * Prefixes are short and plain because they end up in interface names (15 bytes at most) and
 * because `down` removes every namespace named `<prefix>-…`: a dash after the prefix keeps
 * "tsw" from matching "tswt-h1".
 */
export function checkPrefix(prefix: string): string {
  if (!/^[a-z][a-z0-9]{0,7}$/.test(prefix)) {
    throw new Error(`invalid lab prefix "${prefix}": use 1-8 lower-case letters and digits, starting with a letter`);
  }
  return prefix;
}

export function stateDir(prefix: string): string {
  return path.join(STATE_ROOT, checkPrefix(prefix));
}

export function labFile(prefix: string): string {
  return path.join(stateDir(prefix), 'lab.json');
}

function ipToInt(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`invalid IPv4 address "${ip}"`);
  }
  return ((parts[0]! << 24) | (parts[1]! << 16) | (parts[2]! << 8) | parts[3]!) >>> 0;
}

function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Addresses of h1..hN in `subnet` (h1 = network + 11). Throws when they do not fit. */
export function hostAddresses(subnet: string, n: number): { addresses: string[]; prefixLength: number } {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(subnet);
  const len = m ? Number(m[2]) : NaN;
  if (!m || len < 8 || len > 28) throw new Error(`invalid lab subnet "${subnet}": use an IPv4 CIDR such as ${DEFAULT_SUBNET}`);
  const size = 2 ** (32 - len);
  const network = (ipToInt(m[1]!) & ~(size - 1)) >>> 0;
  if (HOST_OFFSET + n >= size - 1) throw new Error(`lab subnet ${subnet} is too small for ${n} hosts`);
  const addresses = Array.from({ length: n }, (_, i) => intToIp((network + HOST_OFFSET + i + 1) >>> 0));
  return { addresses, prefixLength: len };
}

/** Computes the full description of a lab of `n` hosts from the options. */
export function planLab(n: number, opts: LabOptions): LabState {
  if (!Number.isInteger(n) || n < 1 || n > MAX_HOSTS) throw new Error(`invalid host count ${n}: use 1-${MAX_HOSTS}`);
  const prefix = checkPrefix(opts.prefix ?? defaultPrefix());
  const subnet = opts.subnet ?? (process.env['TSWARM_LAB_SUBNET'] || DEFAULT_SUBNET);
  const { addresses, prefixLength } = hostAddresses(subnet, n);
  const dir = stateDir(prefix);
  const names = addresses.map((address, i) => ({ name: `h${i + 1}`, address }));
  const hosts = addresses.map((address, i): HostState => {
    const name = `h${i + 1}`;
    const hostDir = path.join(dir, name);
    return {
      name,
      netns: `${prefix}-${name}`,
      address,
      dir: hostDir,
      dataDir: path.join(hostDir, 'data'),
      socket: path.join(hostDir, 'tswarm.sock'),
      pidFile: path.join(hostDir, 'tswarmd.pid'),
      logFile: path.join(hostDir, 'tswarmd.log'),
      extraArgs: opts.daemonArgs?.(names[i]!, names) ?? [],
    };
  });
  return {
    prefix,
    subnet,
    prefixLength,
    repoRoot: opts.repoRoot ?? path.resolve(__dirname, '..', '..', '..'),
    switchNetns: `${prefix}-sw`,
    bridge: 'br0',
    mtu: UNDERLAY_MTU,
    dockerHost: opts.dockerHost ?? 'unix:///var/run/docker.sock',
    logLevel: opts.logLevel ?? 'info',
    hosts,
    createdAt: new Date().toISOString(),
  };
}

/** Reads lab.json of a running lab; a one-line error when there is none. */
export function readLabState(prefix: string): LabState {
  const file = labFile(prefix);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new Error(`no lab "${prefix}" is up (${file} is missing); start one with: npm run lab -- up 3`);
  }
  return JSON.parse(text) as LabState;
}

export function tswarmdPath(lab: LabState): string {
  return path.join(lab.repoRoot, 'cmd', 'tswarmd', 'tswarmd.js');
}

export function tswarmPath(lab: LabState): string {
  return path.join(lab.repoRoot, 'cmd', 'tswarm', 'tswarm.js');
}
