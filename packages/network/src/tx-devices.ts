// Containers' transmit devices (tx-plan.ts): made while a container is plumbed (its attach),
// their routes and entries kept in line with each view. Owned by LinuxDataplane and used from
// its queue only. The periodic resync leaves them alone: they live inside the containers, like
// the containers' own interfaces.
//
// A container without them works as before (its frames take the veth, and other nodes send to
// it through its sandbox, having no VNI of its own to address), so every failure here degrades
// to that: a device that cannot be made is logged and skipped; a container whose entries
// cannot be written has its devices' routes taken off until a later view succeeds — a route
// must never lead to a device that may not know where the frame goes.
import type { EndpointReceive, Logger, NetworkView } from '@tswarm/api';
import type { FastPath } from './ebpf/fastpath.js';
import type { Kernel } from './kernel.js';
import type { NetlinkWriter } from './netlink.js';
import { containerIfName, macFromIp, txPinBase } from './names.js';
import { desiredPeers, type PeerTable } from './peers.js';
import { CommandError } from './runner.js';
import { forEachLimit } from './serial.js';
import { txDeviceName, txFlushLines, txOps, txTempName, txVniCandidate } from './tx-plan.js';

/** One overlay network of a container, as its transmit device needs it. */
export interface TxNet {
  /** The container interface's position (ethN ↔ vxtxN). */
  readonly index: number;
  readonly networkId: string;
  /** The network's VNI (what goes on the wire). */
  readonly vni: number;
  readonly mtu: number;
  /** The VXLAN UDP port. */
  readonly dstPort: number;
  /** The container's address on ethN: its routes' source (and, through macFromIp, the device's MAC). */
  readonly address: string;
}

interface TxDevice extends TxNet {
  /** In the container's namespace. */
  readonly ifindex: number;
  /** The device's own VNI: frames sent to it reach the container directly. */
  readonly ownVni: number;
  /** The remote endpoints it was given, as written; null = unknown (flush and write all). */
  peers: PeerTable | null;
}

interface TxContainer {
  readonly nsName: string;
  readonly devices: readonly TxDevice[];
}

/** A node-local VNI collides with another device of this node this many times before we give up. */
const VNI_ATTEMPTS = 8;
const PARALLEL_CONTAINERS = 8;

export class TxDevices {
  private readonly byTask = new Map<string, TxContainer>();

  constructor(
    private readonly k: Kernel,
    private readonly fast: FastPath,
    private readonly nl: NetlinkWriter,
    private readonly ids: { readonly namePrefix: string; readonly nodeId: string },
    private readonly log: Logger,
  ) {}

  /**
   * Makes (or, when the container already has them, adopts) the container's transmit devices;
   * their routes and entries come with the next sync. `ifindexes`: the container's links, by
   * name, once plumbed. Returns the VNI each device receives on. Never throws: without its
   * devices a container sends through its veth and receives through its sandbox.
   */
  async add(taskId: string, nsName: string, nets: readonly TxNet[], ifindexes: ReadonlyMap<string, number>): Promise<EndpointReceive[]> {
    const devices: TxDevice[] = [];
    for (const n of nets) {
      try {
        const eth = ifindexes.get(containerIfName(n.index));
        if (!eth) throw new Error(`${containerIfName(n.index)} is not in the container`);
        const have = ifindexes.has(txDeviceName(n.index));
        const made = have ? await this.adopt(taskId, nsName, n, eth) : await this.create(taskId, nsName, n, eth);
        devices.push({ ...n, ...made, peers: have ? null : new Map() }); // a new device holds nothing
      } catch (e) {
        this.log.warn('transmit device not made; the container sends through its veth and receives through its sandbox', { task: taskId, device: txDeviceName(n.index), error: String(e) });
      }
    }
    if (devices.length > 0) this.byTask.set(taskId, { nsName, devices });
    return devices.map((d) => ({ networkId: d.networkId, vni: d.ownVni }));
  }

  /**
   * Deletes the container's devices and forgets it. (They would go with its namespace, but a
   * container may outlive its plumbing: a node leaving the swarm tears its data plane down
   * first.) Never throws.
   */
  async remove(taskId: string): Promise<void> {
    const c = this.byTask.get(taskId);
    this.byTask.delete(taskId);
    if (c && this.k.netnsExists(c.nsName)) await this.k.ipBatch(c.nsName, c.devices.map((d) => `link del ${txDeviceName(d.index)}`), true).catch(() => undefined);
  }

  /**
   * Brings every container's devices in line with the view: each network's remote endpoints.
   * Runs before the sandboxes' peers are written, so a container's route to a new endpoint
   * is there before anything could answer its ARP for it on the veth.
   */
  async sync(view: NetworkView): Promise<void> {
    if (this.byTask.size === 0) return;
    const peers = new Map<string, PeerTable>();
    const peersOf = (networkId: string): PeerTable => {
      let p = peers.get(networkId);
      if (!p) peers.set(networkId, (p = desiredPeers(view, networkId, this.ids.nodeId, false, true)));
      return p;
    };
    await forEachLimit([...this.byTask.entries()], PARALLEL_CONTAINERS, ([taskId, c]) => this.syncContainer(taskId, c, (d) => peersOf(d.networkId)));
  }

  private async syncContainer(taskId: string, c: TxContainer, desired: (d: TxDevice) => PeerTable): Promise<void> {
    const want = c.devices.map(desired);
    try {
      const unknown = txFlushLines(c.devices.filter((d) => !d.peers).map((d) => txDeviceName(d.index)));
      await this.k.bridgeBatch(c.nsName, unknown.bridge);
      await this.k.ipBatch(c.nsName, unknown.ip);
      const ops = c.devices.flatMap((d, i) => txOps({ ifindex: d.ifindex, vni: d.vni, src: d.address }, d.peers ?? new Map(), want[i]!));
      if (ops.length > 0) this.nl.exchange(c.nsName, ops, { ignoreMissing: true });
      c.devices.forEach((d, i) => (d.peers = want[i]!));
    } catch (e) {
      for (const d of c.devices) d.peers = null;
      await this.k.ipBatch(c.nsName, c.devices.map((d) => `route flush dev ${txDeviceName(d.index)}`), true).catch(() => undefined);
      this.log.warn('transmit devices not programmed; the container sends through its veth', { task: taskId, error: String(e) });
    }
  }

  /**
   * A device an earlier tswarmd made (it restarted): its receive program put on again, in case
   * it stopped between making and guarding it or the device comes from a tswarmd before
   * 2026-11-28 (whose devices dropped what they received), and without the egress program
   * through which one before 2026-11-27 23:00 sent frames to it (routes do that now).
   */
  private async adopt(taskId: string, nsName: string, n: TxNet, eth: number): Promise<{ ifindex: number; ownVni: number }> {
    const dev = txDeviceName(n.index);
    try {
      await this.fast.unhookEgress(nsName, [containerIfName(n.index)]);
      await this.fast.receiveTx(nsName, txPinBase(this.ids.namePrefix, this.ids.nodeId, taskId), dev, eth);
      await this.looseReversePath(nsName, n);
      const [shown] = await this.k.ipBatchJson(nsName, [`link show dev ${dev}`], true);
      return shownDevice(dev, shown);
    } catch (e) {
      // Not kept unless looked after: its routes would go stale with the next views.
      await this.k.ipBatch(nsName, [`link del ${txDeviceName(n.index)}`], true).catch(() => undefined);
      throw e;
    }
  }

  /**
   * Frames from a remote endpoint arrive on ethN while the route back to it is the transmit
   * device, and on the device before the route is there (the sender's view came first): a
   * strict reverse-path filter (rp_filter 1, RHEL's default, which new namespaces inherit from
   * the host's) would drop them. Loose (2) only asks that some route back exist.
   */
  private async looseReversePath(nsName: string, n: TxNet): Promise<void> {
    await this.k.sysctls(nsName, { [`net.ipv4.conf.${containerIfName(n.index)}.rp_filter`]: '2', [`net.ipv4.conf.${txDeviceName(n.index)}.rp_filter`]: '2' });
  }

  /**
   * Creates the device in this node's namespace (its socket is the node's), moves it into the
   * container under its name, puts the receive program on its ingress, brings it up with ethN's
   * MAC and makes the reverse-path filters loose; returns its ifindex there and its VNI. A
   * node-local VNI another device of this node holds is skipped for the next one.
   */
  private async create(taskId: string, nsName: string, n: TxNet, eth: number): Promise<{ ifindex: number; ownVni: number }> {
    const tmp = txTempName(taskId, n.index);
    const dev = txDeviceName(n.index);
    for (let attempt = 0; ; attempt++) {
      try {
        await this.k.ipBatch(undefined, [
          `link add ${tmp} mtu ${n.mtu} type vxlan id ${txVniCandidate(taskId, n.index, attempt)} dstport ${n.dstPort} nolearning`,
          `link set dev ${tmp} netns ${nsName} name ${dev}`,
        ]);
        break;
      } catch (e) {
        await this.k.ipBatch(undefined, [`link del ${tmp}`], true).catch(() => undefined);
        // The container has one already (plumbed by a tswarmd whose handle on it was lost): adopt it.
        if (e instanceof CommandError && /new interface name in the target netns/.test(e.stderr)) break;
        const retry = e instanceof CommandError && /VNI already exists|File exists/i.test(e.stderr);
        if (!retry || attempt + 1 >= VNI_ATTEMPTS) throw e;
      }
    }
    try {
      await this.fast.receiveTx(nsName, txPinBase(this.ids.namePrefix, this.ids.nodeId, taskId), dev, eth);
      await this.looseReversePath(nsName, n);
      // addrgenmode before up: no IPv6 link-local address, so the device never sends on its own.
      const [shown] = await this.k.ipBatchJson(nsName, [`link set dev ${dev} addrgenmode none address ${macFromIp(n.address)}`, `link set dev ${dev} arp off up`, `link show dev ${dev}`], true);
      return shownDevice(dev, shown);
    } catch (e) {
      // Never left behind without its program: it would hand VIP replies to the container untranslated.
      await this.k.ipBatch(nsName, [`link del ${dev}`], true).catch(() => undefined);
      throw e;
    }
  }
}

/** The ifindex and VNI of transmit device `dev` from `ip -j -d link show dev DEV`. */
function shownDevice(dev: string, shown: unknown[] | undefined): { ifindex: number; ownVni: number } {
  const l = (shown as { ifindex?: number; linkinfo?: { info_kind?: string; info_data?: { id?: number } } }[] | undefined)?.[0];
  if (!l?.ifindex) throw new Error(`${dev} is not in the container`);
  const vni = l.linkinfo?.info_kind === 'vxlan' ? l.linkinfo.info_data?.id : undefined;
  if (!vni) throw new Error(`${dev} in the container is not a VXLAN device`);
  return { ifindex: l.ifindex, ownVni: vni };
}
