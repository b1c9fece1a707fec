// A container's transmit devices: what each is called and what it must hold. Pure.
//
// Why they exist: a frame a container sends through its veth (eth0 → the sandbox end) is
// queued on the CPU's backlog for a second softirq pass before the sandbox's fast path can
// hand it to the sandbox's VXLAN device. On this 2-CPU machine that hop cost ≈ 6 % of a bulk
// transfer (data one way, ACKs the other), the gap between the overlay and a bare VXLAN device
// (docs/BENCHMARKS.md, 2026-11-27 evening). So beside each overlay interface ethN a container
// gets a VXLAN device of its own, `vxtxN`, created in the node's namespace — its UDP socket is
// the node's, as the sandbox device's is — and then moved into the container, with ethN's MAC.
// The container's own routing table sends to it: a /32 route and a permanent neighbour entry
// per remote endpoint of the network, and the device's forwarding entries say where each MAC
// lives. A frame to a remote endpoint leaves the container already encapsulated, exactly as
// from a bare VXLAN device. Everything else — local containers, br0 (VIPs, the gateway
// address), broadcast and ARP — stays on ethN's subnet route and takes the veth.
//
// Receiving: the device is also where other nodes' transmit devices send to the container,
// on its own VNI, which the task reports with RUNNING (TaskStatus.receive) and the views
// carry (NetworkEndpoint.vni). A frame to it lands in the container's own stack with no
// sandbox, bridge, program redirect or veth on the way, as on a bare VXLAN device: that was
// the last ≈ 2 % between the overlay and one (BENCHMARKS.md, 2026-11-28). What must meet the
// sandbox's conntrack (replies to VIP connections and the like, lb.ts) the device's receive
// program sends out through ethN to the sandbox (ebpf/programs.ts txReceive). The device is
// made while the container is plumbed, before RUNNING, so it exists before anyone is told
// its VNI. Senders that know no VNI for an endpoint (its node made no device, or the task has
// not reported RUNNING yet) address the network's VNI, which the node's sandbox takes in.
//
// Routes, not a tc program on ethN's egress (how it was done until 2026-11-27 23:00): the
// redirect cost 1.5–4 % of a bulk transfer more than the route (BENCHMARKS.md), and the
// routing table keeps frames for br0 (VIP replies and the like) on the veth with no rule of
// its own. The price is one /32 route and one neighbour entry per remote endpoint in each
// container's tables, visible in `ip route` there.
//
// Its VNI: the network's VNI is taken in the node's namespace by the sandbox's device (Linux
// allows one device per VNI and UDP port, and these share the port), so a transmit device gets
// a node-local VNI from the range the cluster never allocates (@tswarm/api vni.ts). Each of
// its forwarding entries names the VNI that goes on the wire: the remote endpoint's own when
// the view has one, else the network's. The node alone picks its devices' VNIs, and the
// kernel refuses a second device with one, so two containers of a node never share one;
// nodes' choices need not differ, since a frame's VNI is read by its destination node only.
//
// Order: a remote endpoint's forwarding entry is written before its neighbour entry and route,
// so the route never leads to a MAC the device cannot place; a removed endpoint's route goes
// with its entries (a frame sent meanwhile is dropped, as it would be anyway: it is gone).
import { createHash } from 'node:crypto';
import { NODE_LOCAL_VNI_MAX, NODE_LOCAL_VNI_MIN } from '@tswarm/api';
import { fdbDel, fdbReplace, neighDel, neighReplace, routeDel, routeReplace, type NetlinkOp } from './netlink.js';
import { diffPeers, type PeerTable } from './peers.js';

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

/** A transmit device as its requests name it: its ifindex in the container, the network's VNI (sent to endpoints without one of their own) and the container's address on ethN (the routes' source). */
export interface TxDeviceRef {
  readonly ifindex: number;
  readonly vni: number;
  readonly src: string;
}

/**
 * The rtnetlink requests taking a transmit device from the remote endpoints `programmed` to
 * `desired` (both keyed by overlay IP, as the sandbox's peers), in the order of the file
 * comment: forwarding entries first, then neighbour entries and routes.
 */
export function txOps(d: TxDeviceRef, programmed: PeerTable, desired: PeerTable): NetlinkOp[] {
  const { put, del } = diffPeers(programmed, desired);
  return [
    ...del.map((p) => fdbDel(d.ifindex, p.mac)),
    ...put.map((p) => fdbReplace(d.ifindex, p.mac, p.dst, p.vni ?? d.vni)),
    ...del.flatMap((p) => [routeDel(d.ifindex, p.ip), neighDel(d.ifindex, p.ip)]),
    ...put.flatMap((p) => [neighReplace(d.ifindex, p.ip, p.mac), routeReplace(d.ifindex, p.ip, d.src)]),
  ];
}

/**
 * The `bridge -batch` and `ip -batch` lines that empty transmit devices `devs` whose entries
 * are not known (tswarmd restarted, or a write failed), before all are written again;
 * meanwhile the container's frames take its veth, as before its device existed.
 */
export function txFlushLines(devs: readonly string[]): { bridge: string[]; ip: string[] } {
  return {
    bridge: devs.map((d) => `fdb flush dev ${d} self`),
    ip: devs.flatMap((d) => [`route flush dev ${d}`, `neigh flush dev ${d} nud permanent`]),
  };
}
