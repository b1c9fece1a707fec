// Service VIP load balancing in each overlay sandbox. Pure planner + nft renderers.
//
// No IPVS on this kernel, so VIPs are DNAT rules — in the network's sandbox, not in the
// containers: a container's namespace holds no netfilter at all, so the packets of direct
// container-to-container traffic meet no hook anywhere (the eBPF fast path takes them past
// the sandbox's bridge and IP stack). Measured against DNAT in every container's own OUTPUT
// hook (the design before, whose namespaces then carried conntrack, defrag, NAT and raw hooks
// on every packet): a bulk transfer between two containers ≈ 7 % faster (2026-11-27, 64 paired
// rounds in one lab, median 0.934 with the old tables; BENCHMARKS.md, "Overlay").
//
// How a VIP connection goes, client C → VIP → backend B:
//   - br0 holds every VIP of its network as a /32 (and the network's gateway address), so C's
//     ARP for the VIP is answered by br0 and the connection enters the sandbox's IP stack;
//   - `prerouting` (nat, dstnat) DNATs it over the service's ACTIVE backends, any port;
//   - `postrouting` (nat, srcnat) rewrites only its source port, into VIP_SOURCE_PORTS (the
//     address stays C's: the backend sees the client), then it leaves through br0 to B,
//     local or over VXLAN;
//   - B's replies are addressed to C at a port in that range, a range Linux never picks by
//     itself (net.ipv4.ip_local_port_range is 32768–60999 by default). So on C's node, frames
//     to a local container at such a port are sent up to br0 instead of straight to C — the
//     eBPF program on the VXLAN device hands them to the bridge (ebpf/programs.ts), and table
//     `bridge tswarm_lb` rewrites their destination MAC to br0's — and conntrack in the sandbox
//     translates them back (source VIP) and forwards them to C. Fragments and ICMP errors take
//     the same way up (conntrack needs the first to reassemble, and translates the others);
//     everything else goes container to container directly.
//   - Only TCP and UDP are balanced (as IPVS does for Docker). Anything else to a VIP — a ping —
//     is answered by the sandbox itself, the VIP being its address: the VIP is reachable.
//   - A VIP with no active backend has its address on br0 and no DNAT: the sandbox's kernel
//     answers at once (TCP reset, ICMP port unreachable) — no timeout, no rule to hook.
//   - C reaching itself through a VIP is masqueraded to the gateway address (set `hairpin`):
//     a packet from its own address would be dropped as a martian in C.
//
// Layout of table `ip tswarm_lb` (one per sandbox):
//   map vips { ipv4_addr : verdict }        VIP → jump svc_<service id>
//   set hairpin { ipv4_addr . ipv4_addr }   (local address . itself)
//   chain prerouting (nat, dstnat)          ip daddr vmap @vips
//   chain postrouting (nat, srcnat)         hairpin masquerade; VIP connections' source port
//   chain svc_<id>                          one DNAT rule (TCP, UDP) per VIP of the service on this network
// One chain per service means a change of one service's backends rewrites only its chain
// (flush + add in one nft transaction); VIPs and local containers coming and going are map and
// set elements (and br0 addresses, in one `ip -batch` after the nft transaction).
// Services in DNSRR mode have no VIP and get nothing. The ingress network has no VIP load
// balancing (its names are not resolvable either: it exists for the routing mesh).
import { EndpointMode, type NetworkView } from '@tswarm/api';
import { addrOf, parseCidr } from './ipv4.js';
import { LB_TABLE, macFromIp, serviceChainName } from './names.js';
import { chainBlock, dnatSpread, replaceTableScript, rewriteChainLines, sameLines } from './nft.js';

export interface LbChain {
  /** The service's VIPs (addresses) with active backends: they jump to this chain. */
  readonly vips: readonly string[];
  /** One DNAT rule per entry of `vips`. */
  readonly rules: readonly string[];
}

export interface LbPlan {
  /** Service chains by name. */
  readonly chains: ReadonlyMap<string, LbChain>;
  /** br0's IPv4 addresses (CIDR): the network's gateway, then every VIP on it as /32. */
  readonly addrs: readonly string[];
  /** Addresses of this node's containers on the network, sorted. */
  readonly local: readonly string[];
  /** br0's MAC: where replies to VIP connections are sent up to. */
  readonly bridgeMac: string;
}

/** Source ports of VIP connections after translation (see the top of this file). */
export const VIP_SOURCE_PORTS = { first: 61000, last: 65535 } as const;

/** Active backends (addresses, sorted) of `serviceId` on `networkId`. */
export function activeBackends(view: NetworkView, serviceId: string, networkId: string): string[] {
  const out = new Set<string>();
  for (const e of view.endpoints) if (e.active && e.serviceId === serviceId && e.networkId === networkId && e.addr) out.add(addrOf(e.addr));
  return [...out].sort();
}

/**
 * The sandbox's load balancing for `networkId`; undefined when the view does not know the
 * network, it is the ingress network, or it has no gateway address yet.
 */
export function planSandboxLb(view: NetworkView, networkId: string, local: readonly string[], bridgeMac: string): LbPlan | undefined {
  const net = view.networks.find((n) => n.id === networkId);
  const gateway = net?.ipam?.gateway;
  const subnet = net?.ipam?.subnet;
  if (!net || net.spec?.ingress || !gateway || !subnet) return undefined;
  const chains = new Map<string, LbChain>();
  const vipAddrs: string[] = [];
  for (const svc of view.services) {
    if (svc.mode === EndpointMode.ENDPOINT_MODE_DNSRR) continue;
    const vips: string[] = [];
    const rules: string[] = [];
    for (const vip of svc.virtualIps) {
      if (vip.networkId !== networkId || !vip.addr) continue;
      const ip = addrOf(vip.addr);
      vipAddrs.push(ip);
      const dnat = dnatSpread(activeBackends(view, svc.serviceId, networkId));
      if (!dnat) continue;
      vips.push(ip);
      rules.push(`ip daddr ${ip} meta l4proto { tcp, udp } ${dnat}`);
    }
    if (vips.length > 0) chains.set(serviceChainName(svc.serviceId), { vips, rules });
  }
  const addrs = [`${addrOf(gateway)}/${parseCidr(subnet).prefix}`, ...[...new Set(vipAddrs)].sort().map((ip) => `${ip}/32`)];
  return { chains, addrs, local: [...new Set(local)].sort(), bridgeMac: bridgeMac.toLowerCase() };
}

const PREROUTING_HEAD = 'type nat hook prerouting priority dstnat; policy accept;';
const POSTROUTING_HEAD = 'type nat hook postrouting priority srcnat; policy accept;';
const POSTROUTING_RULES = [
  'ct status dnat ip saddr . ip daddr @hairpin masquerade',
  `ct status dnat meta l4proto { tcp, udp } snat to :${VIP_SOURCE_PORTS.first}-${VIP_SOURCE_PORTS.last}`,
];
const REPLIES_CHAIN = 'prerouting';
const REPLIES_HEAD = 'type filter hook prerouting priority dstnat; policy accept;';

/** The bridge chain's rules: frames to a local container that must go up to br0 first get br0's MAC. */
function replyRules(bridgeMac: string): string[] {
  const up = `ether daddr set ${bridgeMac} meta pkttype set host`;
  return [
    `ether daddr @locals ether type ip meta l4proto { tcp, udp } th dport ${VIP_SOURCE_PORTS.first}-${VIP_SOURCE_PORTS.last} ${up}`,
    `ether daddr @locals ip frag-off & 0x3fff != 0 ${up}`,
    `ether daddr @locals icmp type { destination-unreachable, time-exceeded, parameter-problem } ${up}`,
  ];
}

function vipLines(op: 'add' | 'delete', entries: readonly (readonly [string, string])[]): string[] {
  if (entries.length === 0) return [];
  return [`${op} element ip ${LB_TABLE} vips { ${entries.map(([vip, chain]) => (op === 'add' ? `${vip} : jump ${chain}` : vip)).join(', ')} }`];
}

function localLines(op: 'add' | 'delete', addrs: readonly string[]): string[] {
  if (addrs.length === 0) return [];
  return [
    `${op} element ip ${LB_TABLE} hairpin { ${addrs.map((a) => `${a} . ${a}`).join(', ')} }`,
    `${op} element bridge ${LB_TABLE} locals { ${addrs.map(macFromIp).join(', ')} }`,
  ];
}

function vipMap(plan: LbPlan): Map<string, string> {
  const m = new Map<string, string>();
  for (const [chain, c] of plan.chains) for (const v of c.vips) m.set(v, chain);
  return m;
}

/** Both tables whole, replacing whatever the sandbox held (first plan, adoption, resync). */
export function renderLbFull(plan: LbPlan): string {
  const body: string[] = [
    'map vips {', '  type ipv4_addr : verdict', '}',
    'set hairpin {', '  type ipv4_addr . ipv4_addr', '}',
    ...chainBlock('prerouting', ['ip daddr vmap @vips'], PREROUTING_HEAD),
    ...chainBlock('postrouting', POSTROUTING_RULES, POSTROUTING_HEAD),
  ];
  for (const [chain, c] of plan.chains) body.push(...chainBlock(chain, c.rules));
  const bridge = ['set locals {', '  type ether_addr', '}', ...chainBlock(REPLIES_CHAIN, replyRules(plan.bridgeMac), REPLIES_HEAD)];
  const elements = [...vipLines('add', [...vipMap(plan)]), ...localLines('add', plan.local)];
  return replaceTableScript(LB_TABLE, body, [], 'ip') + replaceTableScript(LB_TABLE, bridge, elements, 'bridge');
}

/** Only what changed between two plans, as one transaction; '' when nothing did. */
export function renderLbDiff(old: LbPlan, next: LbPlan): string {
  const lines: string[] = [];
  for (const [chain, c] of next.chains) {
    const was = old.chains.get(chain);
    if (!was) lines.push(`add chain ip ${LB_TABLE} ${chain}`);
    if (!was || !sameLines(was.rules, c.rules)) lines.push(...rewriteChainLines(LB_TABLE, chain, c.rules));
  }
  const oldVips = vipMap(old);
  const newVips = vipMap(next);
  lines.push(...vipLines('delete', [...oldVips].filter(([v, ch]) => newVips.get(v) !== ch)));
  lines.push(...vipLines('add', [...newVips].filter(([v, ch]) => oldVips.get(v) !== ch)));
  for (const chain of old.chains.keys()) if (!next.chains.has(chain)) lines.push(`delete chain ip ${LB_TABLE} ${chain}`);
  lines.push(...localLines('delete', old.local.filter((a) => !next.local.includes(a))));
  lines.push(...localLines('add', next.local.filter((a) => !old.local.includes(a))));
  if (old.bridgeMac !== next.bridgeMac) {
    lines.push(...rewriteChainLines(LB_TABLE, REPLIES_CHAIN, replyRules(next.bridgeMac), 'bridge'));
  }
  return lines.length === 0 ? '' : lines.join('\n') + '\n';
}

/**
 * `ip -batch` lines that give br0 the addresses `want` (CIDR), given that it has `have`:
 * additions first, so a VIP that moves between plans is never missing from br0.
 */
export function bridgeAddrLines(have: readonly string[], want: readonly string[], dev: string): string[] {
  return [
    ...want.filter((a) => !have.includes(a)).map((a) => `addr add ${a} dev ${dev}`),
    ...have.filter((a) => !want.includes(a)).map((a) => `addr del ${a} dev ${dev}`),
  ];
}
