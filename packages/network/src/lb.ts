// Service VIP load balancing inside one container's namespace. Pure planner + nft renderer.
//
// No IPVS on this kernel, so a container reaches a VIP through DNAT in its *own* OUTPUT hook
// (table `ip tswarm_lb`): the client's source address is kept, and conntrack reverses the
// translation for replies in the same namespace. Layout:
//   map vips { ipv4_addr : verdict }           VIP → jump svc_<service id>
//   set live { ipv4_addr }                     the same VIPs, for the raw chain below (a map
//                                              whose verdicts jump to DNAT rules cannot be
//                                              looked up from a filter chain)
//   chain output (nat, output, -100)           ip daddr vmap @vips
//   chain svc_<id>                             one rule per VIP of the service this container
//                                              sees: DNAT over its ACTIVE endpoints on that
//                                              network, all ports
//   set dead { ipv4_addr }                     VIPs with no active endpoint …
//   chain refuse (filter, output, 0)           … refused at once instead of timing out: TCP
//                                              with a reset, the rest with ICMP port
//                                              unreachable. (Measured: `reject` inside the nat
//                                              chain is not seen by the connecting socket, and
//                                              ICMP alone is ignored for the first SYN — ~1 s.)
//                                              Present only while `dead` has a member: a filter
//                                              base chain is evaluated for every packet the
//                                              container sends (≈1 % of the CPU of a bulk TCP
//                                              transfer, measured), and with no dead VIP it
//                                              could never match.
//   chain notrack_out (filter, output, raw)    conntrack only for what VIP DNAT needs …
//   chain notrack_in  (filter, prerouting, raw)
//   chain postrouting (nat, postrouting, 100)  … which the source-port range below marks
// One chain per service means a change to one service rewrites only its chain (flush + add
// in one nft transaction). Services in DNSRR mode have no VIP and get nothing.
//
// Conntrack is what DNAT costs: every packet the container sends or receives would be looked
// up in the connection table (≈ 3 % of a bulk transfer's CPU, measured), though only
// connections to a VIP need it. Replies are told apart without the table by the client's
// port: a VIP connection's source port is rewritten into VIP_SOURCE_PORTS (the source
// address stays: the backend still sees the client), a range Linux never picks on its own
// (net.ipv4.ip_local_port_range is 32768–60999 by default). So a TCP/UDP packet is tracked
// only when it goes to a VIP, or its local port (source going out, destination coming in) is
// in that range; everything else — direct connections, and a backend's side of VIP traffic —
// is marked `notrack` before conntrack sees it. Loopback stays tracked: a container reaching
// its own task through a VIP gets its replies over `lo`, and they must be translated back.
import { EndpointMode, type NetworkView } from '@tswarm/api';
import { addrOf } from './ipv4.js';
import { LB_TABLE, serviceChainName } from './names.js';
import { chainBlock, dnatSpread, replaceTableScript, rewriteChainLines, sameLines } from './nft.js';

export interface LbChain {
  /** VIPs (addresses) with active backends: they jump to this chain. */
  readonly vips: readonly string[];
  /** One DNAT rule per entry of `vips`. */
  readonly rules: readonly string[];
  /** VIPs of the service without an active backend: members of set `dead`. */
  readonly dead: readonly string[];
}

/** Keyed by chain name. */
export type LbPlan = ReadonlyMap<string, LbChain>;

/** Active backends (addresses, sorted) of `serviceId` on `networkId`. */
export function activeBackends(view: NetworkView, serviceId: string, networkId: string): string[] {
  const out = new Set<string>();
  for (const e of view.endpoints) if (e.active && e.serviceId === serviceId && e.networkId === networkId && e.addr) out.add(addrOf(e.addr));
  return [...out].sort();
}

export function planContainerLb(view: NetworkView, networkIds: ReadonlySet<string>): Map<string, LbChain> {
  const plan = new Map<string, LbChain>();
  for (const svc of view.services) {
    if (svc.mode === EndpointMode.ENDPOINT_MODE_DNSRR) continue;
    const vips: string[] = [];
    const rules: string[] = [];
    const dead: string[] = [];
    for (const vip of svc.virtualIps) {
      if (!networkIds.has(vip.networkId) || !vip.addr) continue;
      const ip = addrOf(vip.addr);
      const dnat = dnatSpread(activeBackends(view, svc.serviceId, vip.networkId));
      if (!dnat) {
        dead.push(ip);
        continue;
      }
      vips.push(ip);
      rules.push(`ip daddr ${ip} ${dnat}`);
    }
    if (vips.length + dead.length > 0) plan.set(serviceChainName(svc.serviceId), { vips, rules, dead });
  }
  return plan;
}

const OUTPUT_HEAD = 'type nat hook output priority -100; policy accept;';
/** Source ports of VIP connections after translation (see the top of this file). */
export const VIP_SOURCE_PORTS = { first: 61000, last: 65535 } as const;
const TRACKED_CHAINS: readonly (readonly [string, string, readonly string[]])[] = [
  ['notrack_out', 'type filter hook output priority raw; policy accept;',
    [`oifname != "lo" meta l4proto { tcp, udp } th sport < ${VIP_SOURCE_PORTS.first} ip daddr != @live notrack`]],
  ['notrack_in', 'type filter hook prerouting priority raw; policy accept;',
    [`meta l4proto { tcp, udp } th dport < ${VIP_SOURCE_PORTS.first} notrack`]],
  ['postrouting', 'type nat hook postrouting priority 100; policy accept;',
    [`oifname != "lo" ct status dnat meta l4proto { tcp, udp } masquerade to :${VIP_SOURCE_PORTS.first}-${VIP_SOURCE_PORTS.last}`]],
];
const REFUSE_CHAIN = 'refuse';
const REFUSE_HEAD = 'type filter hook output priority 0; policy accept;';
const REFUSE_RULES = ['ip daddr @dead meta l4proto tcp reject with tcp reset', 'ip daddr @dead reject'];

/** Map `vips` and set `live` (the same keys) change together. */
function elementLines(op: 'add' | 'delete', entries: readonly (readonly [string, string])[]): string[] {
  if (entries.length === 0) return [];
  const list = entries.map(([vip, chain]) => (op === 'add' ? `${vip} : jump ${chain}` : vip)).join(', ');
  return [`${op} element ip ${LB_TABLE} vips { ${list} }`, `${op} element ip ${LB_TABLE} live { ${entries.map(([vip]) => vip).join(', ')} }`];
}

function deadLines(op: 'add' | 'delete', vips: readonly string[]): string[] {
  return vips.length === 0 ? [] : [`${op} element ip ${LB_TABLE} dead { ${vips.join(', ')} }`];
}

/** Invariant: chain `refuse` exists iff the plan has a dead VIP. */
function hasDead(plan: LbPlan): boolean {
  for (const c of plan.values()) if (c.dead.length > 0) return true;
  return false;
}

/** The whole table, replacing whatever the namespace held (first plumbing, adoption, resync). */
export function renderLbFull(plan: LbPlan): string {
  const body: string[] = [
    'map vips {', '  type ipv4_addr : verdict', '}',
    'set live {', '  type ipv4_addr', '}',
    'set dead {', '  type ipv4_addr', '}',
    ...chainBlock('output', ['ip daddr vmap @vips'], OUTPUT_HEAD),
    ...TRACKED_CHAINS.flatMap(([name, head, rules]) => chainBlock(name, rules, head)),
    ...(hasDead(plan) ? chainBlock(REFUSE_CHAIN, REFUSE_RULES, REFUSE_HEAD) : []),
  ];
  const elems: [string, string][] = [];
  const dead: string[] = [];
  for (const [chain, c] of plan) {
    body.push(...chainBlock(chain, c.rules));
    for (const v of c.vips) elems.push([v, chain]);
    dead.push(...c.dead);
  }
  return replaceTableScript(LB_TABLE, body, [...elementLines('add', elems), ...deadLines('add', dead)]);
}

/** Only what changed between two plans, as one transaction; '' when nothing did. */
export function renderLbDiff(old: LbPlan, next: LbPlan): string {
  const lines: string[] = [];
  const oldElems = new Map<string, string>();
  const newElems = new Map<string, string>();
  const oldDead = new Set<string>();
  const newDead = new Set<string>();
  for (const [chain, c] of old) {
    for (const v of c.vips) oldElems.set(v, chain);
    for (const v of c.dead) oldDead.add(v);
  }
  for (const [chain, c] of next) {
    for (const v of c.vips) newElems.set(v, chain);
    for (const v of c.dead) newDead.add(v);
  }

  for (const [chain, c] of next) {
    const was = old.get(chain);
    if (!was) lines.push(`add chain ip ${LB_TABLE} ${chain}`);
    if (!was || !sameLines(was.rules, c.rules)) lines.push(...rewriteChainLines(LB_TABLE, chain, c.rules));
  }
  lines.push(...elementLines('delete', [...oldElems].filter(([v, ch]) => newElems.get(v) !== ch)));
  lines.push(...elementLines('add', [...newElems].filter(([v, ch]) => oldElems.get(v) !== ch)));
  lines.push(...deadLines('delete', [...oldDead].filter((v) => !newDead.has(v))));
  lines.push(...deadLines('add', [...newDead].filter((v) => !oldDead.has(v))));
  if (newDead.size > 0 && oldDead.size === 0) {
    lines.push(`add chain ip ${LB_TABLE} ${REFUSE_CHAIN} { ${REFUSE_HEAD} }`, ...rewriteChainLines(LB_TABLE, REFUSE_CHAIN, REFUSE_RULES));
  }
  if (newDead.size === 0 && oldDead.size > 0) lines.push(`delete chain ip ${LB_TABLE} ${REFUSE_CHAIN}`);
  for (const chain of old.keys()) if (!next.has(chain)) lines.push(`delete chain ip ${LB_TABLE} ${chain}`);
  return lines.length === 0 ? '' : lines.join('\n') + '\n';
}
