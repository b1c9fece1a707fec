// The lab's underlay: one "switch" namespace holding a bridge, and one namespace per host joined
// to it by a veth pair. Everything is created directly inside the namespaces (`ip link add …
// netns …`), so nothing of the lab ever appears in the root namespace, and deleting the
// namespaces removes every link with them.
//
// Why the bridge lives in its own namespace: a dockerd in the root namespace loads br_netfilter
// and sets the root FORWARD policy to DROP, which would drop bridged lab traffic (see
// MACHINE-NOTES). br_netfilter's sysctls and the iptables rulesets are per namespace on this
// kernel: the switch namespace's FORWARD policy stays ACCEPT with no rules, and we set its
// bridge-nf-call-* to 0 when br_netfilter is loaded. (If dockerd loads br_netfilter only after
// the lab is up, the switch's sysctls read 1, but its empty ruleset still accepts everything.)
import { statSync } from 'node:fs';
import { HostState, LabState } from './config.js';
import { run, runOk } from './proc.js';

export async function listNetns(): Promise<string[]> {
  const out = await runOk(['ip', 'netns', 'list']);
  // Lines look like "tsw-h1 (id: 3)" or just "tsw-h1".
  return out.split('\n').map((l) => l.split(' ')[0]!).filter((n) => n !== '');
}

/** Root-namespace links whose names start with `prefix` (none, unless something leaked). */
export async function listRootLinks(prefix: string): Promise<string[]> {
  const out = await runOk(['ip', '-o', 'link', 'show']);
  // "12: tsw-h1@if11: <…>" → "tsw-h1"
  return out
    .split('\n')
    .map((l) => (l.split(': ')[1] ?? '').split('@')[0]!)
    .filter((n) => n.startsWith(prefix));
}

/** Namespaces named `<prefix>-…`: the lab's own and any the daemons named after it. */
export async function labNetns(prefix: string): Promise<string[]> {
  return (await listNetns()).filter((n) => n.startsWith(`${prefix}-`));
}

/** The inode identifying a named namespace, as /proc/PID/ns/net shows it ("net:[inode]"). */
export function netnsInode(name: string): number | undefined {
  try {
    return statSync(`/run/netns/${name}`).ino;
  } catch {
    return undefined;
  }
}

/** PIDs of processes inside a named namespace. */
export async function netnsPids(name: string): Promise<number[]> {
  const r = await run(['ip', 'netns', 'pids', name]);
  return r.stdout.split('\n').filter((l) => l.trim() !== '').map(Number);
}

/** Writes sysctl files inside a namespace, skipping any that do not exist (module not loaded). */
async function nsSysctl(netns: string, settings: Record<string, string>): Promise<void> {
  const script = Object.entries(settings)
    .map(([k, v]) => `f=/proc/sys/${k.replace(/\./g, '/')}; if [ -e "$f" ]; then echo ${v} > "$f"; fi`)
    .join('\n');
  await runOk(['ip', 'netns', 'exec', netns, 'sh', '-c', script]);
}

/** Bridged frames in the switch bypass iptables/arptables entirely. */
const SWITCH_SYSCTLS: Record<string, string> = {
  'net.bridge.bridge-nf-call-iptables': '0',
  'net.bridge.bridge-nf-call-ip6tables': '0',
  'net.bridge.bridge-nf-call-arptables': '0',
  // The switch has no addresses of its own and needs no IPv6 link-local chatter.
  'net.ipv6.conf.all.disable_ipv6': '1',
};

/** Creates the switch namespace and its bridge. */
export async function createSwitch(lab: LabState): Promise<void> {
  const sw = lab.switchNetns;
  await runOk(['ip', 'netns', 'add', sw]);
  await nsSysctl(sw, SWITCH_SYSCTLS);
  await runOk(['ip', '-n', sw, 'link', 'add', lab.bridge, 'mtu', String(lab.mtu), 'type', 'bridge', 'stp_state', '0']);
  await runOk(['ip', '-n', sw, 'link', 'set', 'lo', 'up']);
  await runOk(['ip', '-n', sw, 'link', 'set', lab.bridge, 'up']);
}

/**
 * Creates host namespace `h.netns` with eth0 (its end of a veth pair whose other end, named
 * after the host, is a port of the switch bridge), lo up, and its underlay address.
 */
export async function createHost(lab: LabState, h: HostState): Promise<void> {
  const sw = lab.switchNetns;
  const mtu = String(lab.mtu);
  await runOk(['ip', 'netns', 'add', h.netns]);
  await runOk(['ip', '-n', sw, 'link', 'add', h.name, 'mtu', mtu, 'type', 'veth', 'peer', 'name', 'eth0', 'mtu', mtu, 'netns', h.netns]);
  await runOk(['ip', '-n', sw, 'link', 'set', h.name, 'master', lab.bridge, 'up']);
  await runOk(['ip', '-n', h.netns, 'link', 'set', 'lo', 'up']);
  await runOk(['ip', '-n', h.netns, 'addr', 'add', `${h.address}/${lab.prefixLength}`, 'dev', 'eth0']);
  await runOk(['ip', '-n', h.netns, 'link', 'set', 'eth0', 'up']);
}

export async function deleteNetns(name: string): Promise<void> {
  await runOk(['ip', 'netns', 'del', name]);
}

/** Deletes a root-namespace link; one already gone (e.g. the peer of a veth deleted before) is fine. */
export async function deleteRootLink(name: string): Promise<void> {
  const r = await run(['ip', 'link', 'del', name]);
  if (r.code !== 0 && !r.stderr.includes('Cannot find device')) {
    throw new Error(`ip link del ${name}: ${r.stderr.trim().split('\n')[0]}`);
  }
}
