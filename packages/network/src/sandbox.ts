// Overlay sandboxes: one network namespace per overlay network this node takes part in,
// holding bridge br0 and the network's VXLAN device. I/O only; the plans come from peers.ts
// and ports.ts.
//
// The VXLAN device is created in the node's namespace and then moved into the sandbox, so its
// UDP socket stays in the node's namespace (the kernel opens it in the namespace the device
// was created in), as Docker does: `nolearning proxy`, no `local`, no group — peers are
// programmed statically (peers.ts). Everything here is idempotent or preceded by a delete of
// what a crashed run may have left, so a retry converges.
//
// br_netfilter is switched off in every sandbox (BRIDGE_NETFILTER_OFF): no rule here needs to
// see bridged frames through the IPv4 hooks — VIP DNAT (lb.ts) and the ingress sandbox's DNAT
// and masquerade act on routed packets (in and out of br0 as an L3 device, or in on gw0), and
// the one rule that looks at bridged frames (sending VIP replies up to br0) is in nftables'
// own bridge family — and with it on, each frame crossing br0 pays br_netfilter's IPv4 hook
// walk (and conntrack): ≈3 % of the CPU of a container-to-container bulk transfer, measured.
// br0 routes (SANDBOX_ROUTING) and has a fixed MAC (names.ts sandboxBridgeMac).
import type { GatewayPlan } from './gateway.js';
import type { Kernel, NetnsState } from './kernel.js';
import { GATEWAY_BRIDGE, INGRESS_SANDBOX_GW_LINK, INGRESS_TABLE, SANDBOX_BRIDGE, ingressVethName, macFromIp, vxlanName } from './names.js';
import { dropTableScript } from './nft.js';
import { addrOf } from './ipv4.js';
import { parseKernelPeers, peerCommands, type Peer, type PeerDiff } from './peers.js';

export const DEFAULT_VXLAN_PORT = 4789;

/**
 * Per-namespace on this kernel, and 1 by default in a new namespace whenever br_netfilter is
 * loaded (Docker loads it). Absent keys (module not loaded) are skipped.
 */
export const BRIDGE_NETFILTER_OFF: Readonly<Record<string, string>> = {
  'net.bridge.bridge-nf-call-iptables': '0',
  'net.bridge.bridge-nf-call-ip6tables': '0',
  'net.bridge.bridge-nf-call-arptables': '0',
};

/**
 * br0 routes VIP connections (lb.ts): forwarding on, and no ICMP redirects — br0 forwards them
 * back out of the interface they came in on, and a redirect would tell the client to reach the
 * backend directly, past the translation.
 */
export const SANDBOX_ROUTING: Readonly<Record<string, string>> = {
  'net.ipv4.ip_forward': '1',
  'net.ipv4.conf.all.send_redirects': '0',
  [`net.ipv4.conf.${SANDBOX_BRIDGE}.send_redirects`]: '0',
};

/**
 * The sandbox's per-namespace settings: bridged frames kept out of netfilter, br0 a router
 * (idempotent; applied once br0 exists, and again on adoption and resync).
 */
export async function applySandboxSettings(k: Kernel, sandbox: string): Promise<void> {
  await k.sysctlsIfPresent(sandbox, { ...BRIDGE_NETFILTER_OFF, ...SANDBOX_ROUTING });
}

export interface SandboxSpec {
  readonly name: string;
  readonly vni: number;
  /** Overlay MTU (underlay − 50). */
  readonly mtu: number;
  /** VXLAN UDP port. */
  readonly dstPort: number;
  /** br0's MAC (names.ts sandboxBridgeMac). */
  readonly bridgeMac: string;
}

export async function createSandbox(k: Kernel, s: SandboxSpec): Promise<void> {
  const vx = vxlanName(s.vni);
  if (k.netnsExists(s.name)) await deleteSandbox(k, s.name, s.vni); // half-built by a crashed run
  await k.ipBatch(undefined, [`link del ${vx}`], true).catch(() => undefined); // a leftover in our namespace
  await k.ip(undefined, ['netns', 'add', s.name]);
  try {
    await k.ipBatch(undefined, [
      `link add ${vx} mtu ${s.mtu} type vxlan id ${s.vni} dstport ${s.dstPort} nolearning proxy`,
      `link set ${vx} netns ${s.name}`,
    ]);
    await k.ipBatch(s.name, [
      'link set lo up',
      `link add ${SANDBOX_BRIDGE} mtu ${s.mtu} address ${s.bridgeMac} type bridge`,
      `link set ${vx} master ${SANDBOX_BRIDGE} up`,
      // Remote MACs are static entries on this port (peers.ts peerCommands), which must not learn.
      `link set dev ${vx} type bridge_slave learning off`,
      `link set ${SANDBOX_BRIDGE} up`,
    ]);
    await applySandboxSettings(k, s.name);
  } catch (e) {
    await deleteSandbox(k, s.name, s.vni);
    throw e;
  }
}

/**
 * Removes the sandbox. The VXLAN device is deleted explicitly first: a namespace dies
 * asynchronously, and until its device is gone the VNI could not be created again.
 */
export async function deleteSandbox(k: Kernel, name: string, vni: number): Promise<void> {
  if (!k.netnsExists(name)) return;
  await k.ipBatch(name, [`link del ${vxlanName(vni)}`], true).catch(() => undefined);
  await k.ip(undefined, ['netns', 'del', name]).catch(() => undefined);
}

export async function readPeers(k: Kernel, name: string, vni: number): Promise<Map<string, Peer>> {
  const vx = vxlanName(vni);
  const [fdb, neigh] = await Promise.all([k.fdb(name, vx), k.neigh(name, vx)]);
  return parseKernelPeers(fdb, neigh);
}

/** Applies a peer diff: one `bridge -batch` and one `ip -batch`. */
export async function applyPeers(k: Kernel, name: string, vni: number, diff: PeerDiff): Promise<void> {
  const { bridge, ip } = peerCommands(vxlanName(vni), diff);
  // -force: deleting an entry that is already gone must not stop the rest.
  await Promise.all([k.bridgeBatch(name, bridge, true), k.ipBatch(name, ip, true)]);
}

export interface IngressSpec {
  readonly sandbox: string;
  readonly nodeId: string;
  /** This node's address on the ingress network (CIDR). */
  readonly ingressCidr: string;
  readonly gateway: GatewayPlan;
}

/**
 * Makes a sandbox the node's ingress sandbox — or, without `initialTable`, checks that it
 * still is one and puts back what is missing: br0 has the node's ingress address (and the MAC
 * derived from it, which other nodes program), a veth joins it to the gateway bridge
 * (`ig<node8>` ↔ `gw0`, up, the gateway plan's ingress address, default route via the
 * bridge), IP forwarding is on; with `initialTable`, table `ip tswarm_ingress` starts with no
 * published port. One read of the sandbox decides and each piece is written only when it
 * differs, so a sandbox that is right costs that one process and its traffic is not touched.
 * Returns what was put back (empty when nothing was).
 */
export async function ensureIngressExtras(k: Kernel, s: IngressSpec, initialTable?: string): Promise<string[]> {
  const seen = await k.netnsState(s.sandbox);
  const plan = planIngressPlumbing(seen, s);
  if (plan.newVeth) {
    const host = ingressVethName(s.nodeId);
    await k.ipBatch(undefined, [`link del ${host}`], true).catch(() => undefined);
    // gw0's MAC is derived from its address, as the gateway bridge's is: a gw0 made again
    // keeps it, so the node's ARP entry for the ingress address does not strand the mesh.
    await k.ipBatch(undefined, [
      `link add ${host} type veth peer name ${INGRESS_SANDBOX_GW_LINK} address ${macFromIp(s.gateway.ingressIp)} netns ${s.sandbox}`,
      `link set ${host} master ${GATEWAY_BRIDGE} up`,
    ]);
  }
  await k.ipBatch(s.sandbox, plan.sandboxLines);
  if (!seen.forwarding) await k.sysctl(s.sandbox, 'net.ipv4.ip_forward', '1');
  if (initialTable) await k.nft(s.sandbox, initialTable);
  return plan.missing;
}

/**
 * What the ingress sandbox lacks, from one read of it (see ensureIngressExtras). Pure. gw0's
 * MAC is not checked: one made by an older tswarmd has a random one that works, and changing
 * it would strand the node's ARP entry for the ingress address for a while.
 */
export function planIngressPlumbing(seen: NetnsState, s: IngressSpec): { newVeth: boolean; sandboxLines: string[]; missing: string[] } {
  const missing: string[] = [];
  const lines: string[] = [];
  const fix = (what: string, ...l: string[]): void => {
    missing.push(what);
    lines.push(...l);
  };
  const br = seen.links.find((l) => l.ifname === SANDBOX_BRIDGE);
  const mac = macFromIp(addrOf(s.ingressCidr));
  if (br && br.mac !== mac) fix(`${SANDBOX_BRIDGE} MAC`, `link set ${SANDBOX_BRIDGE} address ${mac}`);
  for (const c of br?.cidrs ?? []) if (c !== s.ingressCidr) fix(`${SANDBOX_BRIDGE} without ${c}`, `addr del ${c} dev ${SANDBOX_BRIDGE}`);
  if (!br?.cidrs.includes(s.ingressCidr)) fix(`${SANDBOX_BRIDGE} address`, `addr add ${s.ingressCidr} dev ${SANDBOX_BRIDGE}`);
  const gw = seen.links.find((l) => l.ifname === INGRESS_SANDBOX_GW_LINK);
  const gwCidr = `${s.gateway.ingressIp}/${s.gateway.prefix}`;
  const up = `link set ${INGRESS_SANDBOX_GW_LINK} up`; // before the route: one through a link that is down is refused
  const addr = `addr add ${gwCidr} dev ${INGRESS_SANDBOX_GW_LINK}`;
  const route = `route replace default via ${s.gateway.bridgeIp} dev ${INGRESS_SANDBOX_GW_LINK}`;
  if (!gw) {
    fix(`${INGRESS_SANDBOX_GW_LINK} and its veth on the gateway bridge`, up, addr, route);
  } else {
    if (!gw.up) fix(`${INGRESS_SANDBOX_GW_LINK} up`, up);
    if (!gw.cidrs.includes(gwCidr)) fix(`${INGRESS_SANDBOX_GW_LINK} address`, addr);
    if (!seen.routes.some((r) => r.dst === 'default' && r.dev === INGRESS_SANDBOX_GW_LINK && r.gateway === s.gateway.bridgeIp)) fix('default route', route);
  }
  if (!seen.forwarding) missing.push('IP forwarding');
  return { newVeth: !gw, sandboxLines: lines, missing };
}

/** Undoes ensureIngressExtras while the sandbox stays (local tasks are still on ingress). */
export async function removeIngressExtras(k: Kernel, sandbox: string, nodeId: string): Promise<void> {
  await k.ipBatch(undefined, [`link del ${ingressVethName(nodeId)}`], true).catch(() => undefined);
  await k.ipBatch(sandbox, [`addr flush dev ${SANDBOX_BRIDGE}`], true).catch(() => undefined);
  await k.nft(sandbox, dropTableScript(INGRESS_TABLE)).catch(() => undefined);
}
