// Remote peers of one overlay sandbox: what its VXLAN device must know. Pure.
//
// RFC 7348 §4 leaves the control plane open; like Docker Swarm we use none of the data-plane
// learning or flooding: every remote endpoint is programmed statically from the network view,
// as a forwarding entry (MAC → remote VTEP, `bridge fdb … self permanent`) plus a permanent
// neighbour entry (IP → MAC) that the VXLAN device's ARP proxy answers from (RFC 7348 §4.2
// "ARP proxy"). Endpoints on this node are on br0 and need nothing. In the ingress sandbox,
// every other node's ingress address is a peer too (its ingress sandbox's br0).
//
// The caller keeps what it programmed per sandbox and applies `diffPeers(programmed, desired)`,
// so the work per view is proportional to what changed.
import type { NetworkView } from '@tswarm/api';
import { addrOf, formatIp, parseIp } from './ipv4.js';
import type { FdbEntry } from './kernel.js';
import { macFromIp } from './names.js';

export interface Peer {
  readonly ip: string;
  readonly mac: string;
  /** The remote node's underlay address (VXLAN destination). */
  readonly dst: string;
  /**
   * The VNI reaching the endpoint's container directly (NetworkEndpoint.vni), for transmit
   * devices (tx-plan.ts); absent in sandboxes' tables, whose devices send the network's.
   */
  readonly vni?: number;
}

/** Keyed by overlay IP. */
export type PeerTable = ReadonlyMap<string, Peer>;

export interface PeerDiff {
  /** New or changed entries (`replace` is idempotent). */
  readonly put: readonly Peer[];
  /** Entries to remove. */
  readonly del: readonly Peer[];
}

/** An underlay address as the view carries it, without a port if one was appended. */
export function underlayHost(addr: string): string {
  const m = /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(addr);
  return m ? m[1]! : addr;
}

/** `direct`: with each endpoint's own VNI, for a container's transmit device (tx-plan.ts). */
export function desiredPeers(view: NetworkView, networkId: string, nodeId: string, isIngress: boolean, direct = false): Map<string, Peer> {
  const underlay = new Map<string, string>();
  for (const n of view.nodes) if (n.addr) underlay.set(n.nodeId, underlayHost(n.addr));
  const out = new Map<string, Peer>();
  for (const e of view.endpoints) {
    if (e.networkId !== networkId || e.nodeId === nodeId || !e.addr) continue;
    const dst = underlay.get(e.nodeId);
    if (!dst) continue; // the node's address is not known yet: a later view will bring it
    const ip = addrOf(e.addr);
    out.set(ip, direct && e.vni ? { ip, mac: macFromIp(ip), dst, vni: e.vni } : { ip, mac: macFromIp(ip), dst });
  }
  if (isIngress) {
    for (const n of view.nodes) {
      if (n.nodeId === nodeId || !n.ingressAddr || !n.addr) continue;
      const ip = addrOf(n.ingressAddr);
      out.set(ip, { ip, mac: macFromIp(ip), dst: underlayHost(n.addr) });
    }
  }
  return out;
}

export function diffPeers(programmed: PeerTable, desired: PeerTable): PeerDiff {
  const put: Peer[] = [];
  const del: Peer[] = [];
  for (const [ip, p] of desired) {
    const q = programmed.get(ip);
    if (!q || q.mac !== p.mac || q.dst !== p.dst || q.vni !== p.vni) put.push(p);
  }
  for (const [ip, q] of programmed) if (!desired.has(ip)) del.push(q);
  return { put, del };
}

/**
 * `bridge -batch` and `ip -batch` lines for a diff on VXLAN device `vx`. Each remote endpoint is
 * also a static entry of the sandbox bridge on `vx`'s port, which does not learn: where a MAC
 * lives is the control plane's to say (file comment), not something the bridge infers from
 * the frames it sees. The entry is sticky: a container's port (which learns its container's
 * MAC) may see a remote endpoint's MAC as a source — a reply a container's transmit device
 * sends on up to br0 (tx-plan.ts), or a container spoofing it — and without `sticky` the
 * bridge would move the entry there and send that endpoint's frames to the container.
 */
export function peerCommands(vx: string, diff: PeerDiff): { bridge: string[]; ip: string[] } {
  const bridge: string[] = [];
  const ip: string[] = [];
  for (const p of diff.del) {
    bridge.push(`fdb del ${p.mac} dev ${vx} self`, `fdb del ${p.mac} dev ${vx} master`);
    ip.push(`neigh del ${p.ip} dev ${vx}`);
  }
  for (const p of diff.put) {
    bridge.push(`fdb replace ${p.mac} dev ${vx} dst ${p.dst} self permanent`, `fdb replace ${p.mac} dev ${vx} master static sticky`);
    ip.push(`neigh replace ${p.ip} lladdr ${p.mac} dev ${vx} nud permanent`);
  }
  return { bridge, ip };
}

/** The inverse of macFromIp for 02:42:… addresses; undefined for any other MAC. */
export function ipFromMac(mac: string): string | undefined {
  const b = mac.toLowerCase().split(':');
  if (b.length !== 6 || b[0] !== '02' || b[1] !== '42') return undefined;
  return formatIp(parseIp(b.slice(2).map((x) => parseInt(x, 16)).join('.')));
}

/**
 * What the kernel holds, from `bridge -j fdb show dev VX` and `ip -j neigh show dev VX`
 * (for adoption after a restart and for the periodic resync). A half-programmed peer (one of
 * its three entries missing, or its bridge entry not sticky) comes back with an empty `dst` or
 * a mismatched MAC, so the next diff rewrites it.
 */
export function parseKernelPeers(fdb: readonly FdbEntry[], neigh: readonly { dst?: string; lladdr?: string }[]): Map<string, Peer> {
  const dstByMac = new Map<string, string>();
  const bridged = new Set(fdb.filter((f) => f.mac && f.master && f.state === 'static' && f.flags?.includes('sticky')).map((f) => f.mac!.toLowerCase()));
  for (const f of fdb) {
    if (!f.mac || !f.dst || f.mac === '00:00:00:00:00:00') continue;
    const mac = f.mac.toLowerCase();
    dstByMac.set(mac, bridged.has(mac) ? f.dst : ''); // without its bridge entry: rewrite
  }
  const out = new Map<string, Peer>();
  for (const n of neigh) {
    if (!n.dst || !n.lladdr) continue;
    const mac = n.lladdr.toLowerCase();
    out.set(n.dst, { ip: n.dst, mac, dst: dstByMac.get(mac) ?? '' });
    dstByMac.delete(mac);
  }
  for (const mac of dstByMac.keys()) {
    const ip = ipFromMac(mac);
    if (ip && !out.has(ip)) out.set(ip, { ip, mac, dst: '' }); // no neighbour entry: rewrite both
  }
  return out;
}
