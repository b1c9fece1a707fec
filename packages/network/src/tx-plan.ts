// A container's transmit devices: what each is called and what it must hold. Pure.
//
// Why they exist: a frame a container sends crosses its veth (eth0 → the sandbox end), which
// queues it on the CPU's backlog for a second softirq pass before the eBPF fast path can hand
// it to the sandbox's VXLAN device. On this 2-CPU machine that hop cost ≈ 6 % of a bulk
// transfer (data one way, ACKs the other), the gap between the overlay and a bare VXLAN device
// (docs/BENCHMARKS.md, 2026-11-27 evening). So beside each overlay interface ethN a container
// gets a VXLAN device of its own, `vxtxN`, created in the node's namespace — its UDP socket is
// the node's, as the sandbox device's is — and then moved into the container; a tc program on
// ethN's egress (ebpf/programs.ts toTxDeviceProgram) hands it every unicast frame that is not
// for br0. The frame leaves the container already encapsulated, exactly as from a bare VXLAN
// device. Receiving is unchanged (the sandbox device and from-overlay), and so are broadcast,
// ARP and frames to br0 (VIPs, the gateway address): they take the veth.
//
// Its VNI: the network's VNI is taken in the node's namespace by the sandbox's device (Linux
// allows one device per VNI and UDP port, and these share the port), so a transmit device gets
// a node-local VNI from the range the cluster never allocates (@tswarm/api vni.ts), and each of
// its forwarding entries names the network's VNI, which is what goes on the wire. Nothing is
// meant to arrive on the node-local VNI: a drop program on the device's ingress refuses it.
//
// Its FDB: like the sandbox device's (peers.ts: MAC → the remote node's underlay address), plus
// a default entry (the all-zero MAC) → this node's own underlay address. For that destination
// the kernel skips the encapsulation and hands the frame to the node's device for the VNI —
// the sandbox's — as if it had just arrived ("local bypass", Linux ≥ 6.6, on by default), so
// frames to local containers take the sandbox's path with no entry per local container.
// A remote MAC must be in a container's FDB before the container can learn it (the sandbox's
// VXLAN proxy answers ARP from the sandbox's neighbour entries): the data plane writes the
// transmit devices' entries before the sandbox's.
import { createHash } from 'node:crypto';
import { NODE_LOCAL_VNI_MAX, NODE_LOCAL_VNI_MIN } from '@tswarm/api';
import type { FdbEntry } from './kernel.js';
import type { Peer } from './peers.js';

/** The transmit device beside container interface ethN, in the container's namespace. */
export function txDeviceName(index: number): string {
  return `vxtx${index}`;
}

/** Its name in the node's namespace between creation and the move: 2 + 10 + index digits ≤ 15. */
export function txTempName(taskId: string, index: number): string {
  return `tx${taskId.slice(0, 10)}${index}`;
}

/**
 * The node-local VNI to try at `attempt` (0, 1, …): a hash of the task and interface, then the
 * next ones, so a collision (another device of this node has it) moves on deterministically.
 */
export function txVniCandidate(taskId: string, index: number, attempt: number): number {
  const size = NODE_LOCAL_VNI_MAX - NODE_LOCAL_VNI_MIN + 1;
  const h = createHash('sha256').update(`${taskId}/${index}`).digest().readUInt32BE(0);
  return NODE_LOCAL_VNI_MIN + ((h + attempt) % size);
}

/** The default FDB entry's MAC. */
export const DEFAULT_FDB_MAC = '00:00:00:00:00:00';

/** A transmit device's forwarding entries: MAC → underlay destination. */
export type TxFdb = ReadonlyMap<string, string>;

/** Every remote endpoint of the network (the sandbox's peers), and the default entry to this node itself. */
export function desiredTxFdb(peers: Iterable<Peer>, selfUnderlay: string): Map<string, string> {
  const out = new Map<string, string>([[DEFAULT_FDB_MAC, selfUnderlay]]);
  for (const p of peers) out.set(p.mac.toLowerCase(), p.dst);
  return out;
}

/** `bridge -batch` lines taking device `dev` from `programmed` to `desired`; every entry sends with the network's `vni`. */
export function txFdbCommands(dev: string, vni: number, programmed: TxFdb, desired: TxFdb): string[] {
  const lines: string[] = [];
  for (const mac of programmed.keys()) if (!desired.has(mac)) lines.push(`fdb del ${mac} dev ${dev} self`);
  for (const [mac, dst] of desired) {
    const had = programmed.get(mac);
    if (had === dst) continue;
    if (mac !== DEFAULT_FDB_MAC) {
      lines.push(`fdb replace ${mac} dev ${dev} dst ${dst} vni ${vni} self permanent`);
      continue;
    }
    // The default entry is a list of destinations, which the kernel will not `replace`: it is
    // deleted whole and written again.
    if (had !== undefined) lines.push(`fdb del ${mac} dev ${dev} self`);
    lines.push(`fdb append ${mac} dev ${dev} dst ${dst} vni ${vni} self permanent`);
  }
  return lines;
}

/**
 * What the kernel holds, from `bridge -j fdb show dev vxtxN` (after a restart or a resync). An
 * entry sending with another VNI than the network's, or listed twice, comes back with an empty
 * destination, so the next diff rewrites it.
 */
export function parseTxFdb(entries: readonly FdbEntry[], vni: number): Map<string, string> {
  const out = new Map<string, string>();
  for (const e of entries) {
    if (!e.mac || !e.dst) continue; // the device's own unicast and multicast addresses
    const mac = e.mac.toLowerCase();
    // A MAC listed twice (a default entry with two destinations) is rewritten as well.
    out.set(mac, e.vni === vni && !out.has(mac) ? e.dst : '');
  }
  return out;
}
