// Containers' transmit devices (tx-plan.ts): made after the view that follows the attach (or a
// second after it; LinuxDataplane makeTxDevices), their forwarding entries and tc programs kept
// in line with each view. Owned by LinuxDataplane
// and used from its queue only. The periodic resync leaves them alone: they live inside the
// containers, like the containers' own interfaces.
//
// A container without them works as before (its frames take the veth), so every failure here
// degrades to that: a device that cannot be made is logged and skipped; a container whose
// entries cannot be written has its programs taken off until a later view succeeds — a
// program must never send a frame to a device that may not know where it goes.
import type { Logger, NetworkView } from '@tswarm/api';
import type { FastPath, TxAttachment } from './ebpf/fastpath.js';
import type { Kernel, KernelLink } from './kernel.js';
import { containerIfName, txPinBase } from './names.js';
import { desiredPeers, underlayHost, type Peer } from './peers.js';
import { CommandError } from './runner.js';
import { forEachLimit } from './serial.js';
import { desiredTxFdb, parseTxFdb, txDeviceName, txFdbCommands, txTempName, txVniCandidate, type TxFdb } from './tx-plan.js';

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
  /** br0's MAC in the network's sandbox. */
  readonly bridgeMac: string;
}

interface TxDevice extends TxNet {
  readonly ifindex: number;
  /** Its forwarding entries as written; null = unknown (read the kernel before the diff). */
  fdb: TxFdb | null;
}

interface TxContainer {
  readonly nsName: string;
  readonly devices: readonly TxDevice[];
  /** The programs are on its interfaces (frames take the devices). */
  attached: boolean;
}

/** A node-local VNI collides with another device of this node this many times before we give up. */
const VNI_ATTEMPTS = 8;
const PARALLEL_CONTAINERS = 8;

export class TxDevices {
  private readonly byTask = new Map<string, TxContainer>();
  /** Containers attached since the last makePlanned(), with their links as read at attach. */
  private readonly planned = new Map<string, { nsName: string; nets: readonly TxNet[]; links: readonly KernelLink[] }>();

  constructor(
    private readonly k: Kernel,
    private readonly fast: FastPath,
    private readonly ids: { readonly namePrefix: string; readonly nodeId: string },
    private readonly log: Logger,
  ) {}

  /**
   * Records the devices a container just attached needs; makePlanned() makes them. Apart
   * because they are not on the attach's path (the container sends through its veth until its
   * devices are programmed): a scale-up's RUNNING, and so its VIP rules, need not wait for them.
   */
  plan(taskId: string, nsName: string, nets: readonly TxNet[], links: readonly KernelLink[]): void {
    if (nets.length > 0) this.planned.set(taskId, { nsName, nets, links });
  }

  get hasPlanned(): boolean {
    return this.planned.size > 0;
  }

  /** Makes the planned devices; their entries and programs come with the next sync. Never throws. */
  async makePlanned(): Promise<void> {
    const todo = [...this.planned];
    this.planned.clear();
    await forEachLimit(todo, PARALLEL_CONTAINERS, ([taskId, p]) => this.add(taskId, p.nsName, p.nets, p.links));
  }

  /**
   * Makes (or, when `links` — the container's, read at attach — already has them, adopts) the
   * container's transmit devices. Never throws: without its devices a container sends through
   * its veth.
   */
  private async add(taskId: string, nsName: string, nets: readonly TxNet[], links: readonly KernelLink[]): Promise<void> {
    const devices: TxDevice[] = [];
    for (const n of nets) {
      try {
        const have = links.find((l) => l.ifname === txDeviceName(n.index));
        const ifindex = have?.ifindex ?? (await this.create(taskId, nsName, n));
        devices.push({ ...n, ifindex, fdb: null });
      } catch (e) {
        this.log.warn('transmit device not made; the container sends through its veth', { task: taskId, device: txDeviceName(n.index), error: String(e) });
      }
    }
    if (devices.length > 0) this.byTask.set(taskId, { nsName, devices, attached: false });
  }

  /**
   * Deletes the container's devices and forgets it. (They would go with its namespace, but a
   * container may outlive its plumbing: a node leaving the swarm tears its data plane down
   * first.) Never throws.
   */
  async remove(taskId: string): Promise<void> {
    const c = this.byTask.get(taskId);
    this.byTask.delete(taskId);
    this.planned.delete(taskId);
    if (c && this.k.netnsExists(c.nsName)) await this.k.ipBatch(c.nsName, c.devices.map((d) => `link del ${txDeviceName(d.index)}`), true).catch(() => undefined);
  }

  /**
   * Brings every container's entries in line with the view (each network's remote endpoints, and
   * the default entry to this node), then attaches the programs where they are not yet. Runs
   * before the sandboxes' peers are written (tx-plan.ts: a container learns a MAC from them).
   */
  async sync(view: NetworkView): Promise<void> {
    const me = view.nodes.find((n) => n.nodeId === this.ids.nodeId);
    if (!me?.addr || this.byTask.size === 0) return;
    const self = underlayHost(me.addr);
    const peers = new Map<string, Map<string, Peer>>();
    const peersOf = (networkId: string): Map<string, Peer> => {
      let p = peers.get(networkId);
      if (!p) peers.set(networkId, (p = desiredPeers(view, networkId, this.ids.nodeId, false)));
      return p;
    };
    await forEachLimit([...this.byTask.entries()], PARALLEL_CONTAINERS, ([taskId, c]) =>
      this.syncContainer(taskId, c, (d) => desiredTxFdb(peersOf(d.networkId).values(), self)));
  }

  private async syncContainer(taskId: string, c: TxContainer, desired: (d: TxDevice) => TxFdb): Promise<void> {
    try {
      const lines: string[] = [];
      const want = c.devices.map(desired);
      for (const [i, d] of c.devices.entries()) {
        const dev = txDeviceName(d.index);
        const have = d.fdb ?? parseTxFdb(await this.k.fdb(c.nsName, dev), d.vni);
        lines.push(...txFdbCommands(dev, d.vni, have, want[i]!));
      }
      if (lines.length > 0) await this.k.bridgeBatch(c.nsName, lines);
      c.devices.forEach((d, i) => (d.fdb = want[i]!));
      if (!c.attached) {
        const attachments: TxAttachment[] = c.devices.map((d) => ({
          eth: containerIfName(d.index), tx: txDeviceName(d.index), plan: { txIfindex: d.ifindex, bridgeMac: d.bridgeMac },
        }));
        await this.fast.applyTx(c.nsName, txPinBase(this.ids.namePrefix, this.ids.nodeId, taskId), attachments);
        c.attached = true;
      }
    } catch (e) {
      for (const d of c.devices) d.fdb = null;
      c.attached = false;
      await this.fast.clearTx(c.nsName, c.devices.map((d) => containerIfName(d.index)));
      this.log.warn('transmit devices not programmed; the container sends through its veth', { task: taskId, error: String(e) });
    }
  }

  /**
   * Creates the device in this node's namespace (its socket is the node's) and moves it into
   * the container under its name; returns its ifindex there. A node-local VNI another device of
   * this node holds is skipped for the next one.
   */
  private async create(taskId: string, nsName: string, n: TxNet): Promise<number> {
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
    // addrgenmode before up: no IPv6 link-local address, so the device never sends on its own.
    const [shown] = await this.k.ipBatchJson(nsName, [`link set dev ${dev} addrgenmode none`, `link set dev ${dev} arp off up`, `link show dev ${dev}`]);
    const ifindex = (shown as { ifindex?: number }[] | undefined)?.[0]?.ifindex;
    if (!ifindex) throw new Error(`${dev} is not in the container after its move`);
    return ifindex;
  }
}
