// The one place that turns intentions into tool invocations (ip, bridge, nft, sysctl) and
// parses their JSON back. No state of its own; every call names the namespace it acts in
// (`undefined` = the namespace tswarmd runs in, as its runner sees it).
//
// Batching: a list of lines goes to one `ip -batch -` / `bridge -batch -` / `nft -f -`, so a
// change costs a few process spawns, not one per rule. Another namespace is entered with
// `ip -n` / `bridge -n` or, for nft and sysctl, `nsenter --net=/run/netns/NAME` (cheaper
// than `ip netns exec`, which also remounts /sys). Failures reject with CommandError.
import { existsSync, readdirSync, statSync } from 'node:fs';
import type { CommandRunner } from './runner.js';
import type { LinkAddrs } from './mtu.js';

export const NETNS_DIR = '/run/netns';

export interface KernelLink extends LinkAddrs {
  /** The link's index in its namespace (eBPF redirects name links by index). */
  readonly ifindex: number;
  readonly master?: string;
  /** Administratively up (`ip link set … up`). */
  readonly up: boolean;
  readonly mac: string;
  /** IPv4 addresses as CIDR text ("10.0.1.5/24"). */
  readonly cidrs: readonly string[];
}

export interface KernelRoute {
  /** "default" or CIDR. */
  readonly dst: string;
  readonly dev: string;
  readonly gateway?: string;
}

/** A namespace's links, main-table routes and whether IPv4 forwarding is on (`ip_forward`), as one read saw them. */
export interface NetnsState {
  readonly links: readonly KernelLink[];
  readonly routes: readonly KernelRoute[];
  readonly forwarding: boolean;
}

/** One line of `bridge -j fdb show`: a device's own entry (`dst`) or its bridge's (`master`). */
export interface FdbEntry {
  readonly mac?: string;
  readonly dst?: string;
  readonly master?: string;
  readonly state?: string;
  /** `bridge -j` flags, e.g. "self", "sticky". */
  readonly flags?: readonly string[];
}

interface IpAddrJson {
  ifindex?: number;
  ifname?: string;
  flags?: string[];
  mtu?: number;
  master?: string;
  address?: string;
  addr_info?: { family?: string; local?: string; prefixlen?: number }[];
}

interface IpRouteJson {
  dst?: string;
  dev?: string;
  gateway?: string;
}

interface IpNetconfJson {
  family?: string;
  interface?: string;
  /** A boolean from iproute2 6.x; older versions print "on"/"off". */
  forwarding?: boolean | string;
}

export class Kernel {
  constructor(private readonly runner: CommandRunner) {}

  ip(ns: string | undefined, args: readonly string[]): Promise<string> {
    return this.runner.run(['ip', ...(ns ? ['-n', ns] : []), ...args]);
  }

  /** `force`: keep going past failing lines (the exit code still reports them). */
  async ipBatch(ns: string | undefined, lines: readonly string[], force = false): Promise<void> {
    if (lines.length === 0) return;
    await this.runner.run(['ip', ...(ns ? ['-n', ns] : []), ...(force ? ['-force'] : []), '-batch', '-'], lines.join('\n') + '\n');
  }

  /**
   * `ip -j -batch`: the JSON array each `show` line prints, in order (other lines print nothing).
   * `details`: `ip -d`, whose `show` output has each link's kind and its settings (`linkinfo`).
   */
  async ipBatchJson(ns: string | undefined, lines: readonly string[], details = false): Promise<unknown[][]> {
    const out = await this.runner.run(['ip', ...(ns ? ['-n', ns] : []), '-j', ...(details ? ['-d'] : []), '-batch', '-'], lines.join('\n') + '\n');
    return out.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l) as unknown[]);
  }

  async bridgeBatch(ns: string | undefined, lines: readonly string[], force = false): Promise<void> {
    if (lines.length === 0) return;
    await this.runner.run(['bridge', ...(ns ? ['-n', ns] : []), ...(force ? ['-force'] : []), '-batch', '-'], lines.join('\n') + '\n');
  }

  /** `tc -batch -` (traffic control: the eBPF fast path's clsact qdiscs and filters). */
  async tcBatchIn(ns: string | undefined, lines: readonly string[], force = false): Promise<void> {
    if (lines.length === 0) return;
    // nsenter, not `tc -n`: -n remounts /sys, hiding a bpffs mounted at /sys/fs/bpf.
    await this.runner.run([...enter(ns), 'tc', ...(force ? ['-force'] : []), '-batch', '-'], lines.join('\n') + '\n');
  }

  /** Runs any command through the runner (e.g. mount). */
  run(argv: readonly string[]): Promise<string> {
    return this.runner.run(argv);
  }

  /** iptables (the legacy-syntax front end, nf_tables backend on Debian 12); `-w` waits for its lock. */
  iptables(args: readonly string[]): Promise<string> {
    return this.runner.run(['iptables', '-w', ...args]);
  }

  async nft(ns: string | undefined, script: string): Promise<void> {
    if (!script) return;
    await this.runner.run([...enter(ns), 'nft', '-f', '-'], script);
  }

  async sysctl(ns: string | undefined, key: string, value: string): Promise<void> {
    await this.sysctls(ns, { [key]: value });
  }

  /** Several keys in one process; `ifPresent`: keys this kernel does not have (module not loaded) are skipped (`sysctl -e`). */
  async sysctls(ns: string | undefined, settings: Readonly<Record<string, string>>, ifPresent = false): Promise<void> {
    const kv = Object.entries(settings).map(([k, v]) => `${k}=${v}`);
    if (kv.length > 0) await this.runner.run([...enter(ns), 'sysctl', '-q', ...(ifPresent ? ['-e'] : []), '-w', ...kv]);
  }

  async sysctlsIfPresent(ns: string | undefined, settings: Readonly<Record<string, string>>): Promise<void> {
    await this.sysctls(ns, settings, true);
  }

  async links(ns: string | undefined): Promise<KernelLink[]> {
    return parseLinks(JSON.parse((await this.ip(ns, ['-j', 'addr', 'show'])) || '[]') as IpAddrJson[]);
  }

  /** Main-table routes: destination ("default" or CIDR), device and next hop. */
  async routes(ns: string | undefined): Promise<KernelRoute[]> {
    return parseRoutes(JSON.parse((await this.ip(ns, ['-j', '-4', 'route', 'show'])) || '[]') as IpRouteJson[]);
  }

  /**
   * Links, IPv4 main-table routes and the forwarding switch of namespace `ns` in one process:
   * `ip -j -batch` prints one JSON array per command, one per line (`route show` is IPv4 unless told otherwise).
   */
  async netnsState(ns: string): Promise<NetnsState> {
    const arrays = await this.ipBatchJson(ns, ['addr show', 'route show', 'netconf show']);
    const [links, routes, netconf] = arrays;
    if (!links || !routes || !netconf) throw new Error(`ip -batch in ${ns} answered ${arrays.length} JSON arrays, not three`);
    const all = (netconf as IpNetconfJson[]).find((c) => c.family === 'inet' && c.interface === 'all');
    return { links: parseLinks(links as IpAddrJson[]), routes: parseRoutes(routes as IpRouteJson[]), forwarding: all?.forwarding === true || all?.forwarding === 'on' };
  }

  async fdb(ns: string, dev: string): Promise<FdbEntry[]> {
    return JSON.parse((await this.runner.run(['bridge', '-n', ns, '-j', 'fdb', 'show', 'dev', dev])) || '[]') as FdbEntry[];
  }

  async neigh(ns: string, dev: string): Promise<{ dst?: string; lladdr?: string }[]> {
    return JSON.parse((await this.ip(ns, ['-j', 'neigh', 'show', 'dev', dev])) || '[]') as { dst?: string; lladdr?: string }[];
  }

  /** Named namespaces on the machine (they are global, whichever namespace we run in). */
  listNetns(): string[] {
    try {
      return readdirSync(NETNS_DIR);
    } catch {
      return [];
    }
  }

  /** Whether the name exists at all (a live namespace or a stale file). */
  netnsExists(name: string): boolean {
    return existsSync(`${NETNS_DIR}/${name}`);
  }

  /**
   * Whether the name is a live namespace (an nsfs bind mount) rather than a stale file: a
   * file outlives its mount when the mount was made in a mount namespace that has since died
   * (e.g. a tswarmd started under `ip netns exec`, which gives it a private slave mount
   * namespace), and then the namespace is gone.
   */
  netnsLive(name: string): boolean {
    try {
      return statSync(`${NETNS_DIR}/${name}`).dev === statSync('/proc/self/ns/net').dev;
    } catch {
      return false;
    }
  }

  /** Whether handle `name` refers to the network namespace of process `pid`. */
  handleIsFor(name: string, pid: number): boolean {
    try {
      const a = statSync(`${NETNS_DIR}/${name}`);
      const b = statSync(`/proc/${pid}/ns/net`);
      return a.ino === b.ino && a.dev === b.dev;
    } catch {
      return false;
    }
  }
}

function parseLinks(raw: readonly IpAddrJson[]): KernelLink[] {
  return raw.map((l) => {
    const v4 = (l.addr_info ?? []).filter((a) => a.family === 'inet' && a.local);
    return {
      ifindex: l.ifindex ?? 0,
      ifname: l.ifname ?? '',
      mtu: l.mtu ?? 0,
      ...(l.master ? { master: l.master } : {}),
      up: (l.flags ?? []).includes('UP'),
      mac: (l.address ?? '').toLowerCase(),
      addrs: v4.map((a) => a.local!),
      cidrs: v4.map((a) => `${a.local}/${a.prefixlen}`),
    };
  });
}

function parseRoutes(raw: readonly IpRouteJson[]): KernelRoute[] {
  return raw.map((r) => ({ dst: r.dst ?? '', dev: r.dev ?? '', ...(r.gateway ? { gateway: r.gateway } : {}) }));
}

function enter(ns: string | undefined): string[] {
  return ns ? ['nsenter', `--net=${NETNS_DIR}/${ns}`] : [];
}
