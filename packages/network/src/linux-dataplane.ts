// LinuxDataplane: the Dataplane contract (@tswarm/agent dataplane.ts) on Linux — overlay
// sandboxes with kernel VXLAN, veths into containers, nftables for VIPs (in the sandboxes) and
// published ports.
//
// Ownership: every public call is one operation on a SerialQueue, so the state below has one
// owner (STYLE 4); views are coalesced to the newest. Each operation decides with the pure
// planners (peers.ts, lb.ts, ports.ts) against what it last programmed, and applies only the
// difference. When an apply fails, the piece's record becomes `null` ("unknown") and the next
// view (or the periodic resync) rewrites it whole — failures never throw out of setView.
//
// Restarts: a new process adopts what it finds — the gateway bridge and table, this node's
// sandboxes (`<prefix>-ov<vni>-<node8>`), and containers as the agent re-attaches them
// (attach is idempotent and reads the gateway address back). Until the agent's first
// `sweep`, nothing found is deleted, because the full local task set is not known yet.
import type { Dataplane } from '@tswarm/agent';
import type { EndpointReceive, Logger, NetworkView, PortConfig, Task } from '@tswarm/api';
import { ensureHandle, plumbContainer, unplumbContainer } from './container.js';
import { GatewayAllocator, type GatewayPlan } from './gateway.js';
import { findOwnHandles, removeGateway, setupGateway, strayGatewayVeths } from './host.js';
import { Kernel } from './kernel.js';
import { LB_TABLE, containerNsName, gatewayVethName, ingressVethName, macFromIp, parseSandboxName, sandboxVethName } from './names.js';
import { dropTableScript } from './nft.js';
import { addrOf } from './ipv4.js';
import { FastPath } from './ebpf/fastpath.js';
import type { SandboxEndpoint } from './ebpf/plan.js';
import type { BpfLoader } from './ebpf/loader.js';
import { execRunner, type CommandRunner } from './runner.js';
import { DEFAULT_VXLAN_PORT, deleteSandbox } from './sandbox.js';
import { renderUnderlayNotrack } from './host-table.js';
import { forEachLimit, QueueBatch, SerialQueue } from './serial.js';
import { SandboxSet } from './sandbox-set.js';
import { TxDevices, type TxNet } from './tx-devices.js';
import { nativeNetlink } from './netlink.js';
import { syncHostPorts, syncIngress, type PortsState } from './mesh.js';

export interface LinuxDataplaneOptions {
  nodeId: string;
  /** Prefix of every namespace this node creates: process.env.TSWARM_LAB (the test lab's prefix, whose teardown deletes netns named `<prefix>-…`) or 'tsw'. */
  namePrefix: string;
  logger: Logger;
  /** Told whenever the set of local containers changes: container gateway IP → network IDs the container is on (for the DNS resolver to know who asks). */
  onClients?(clients: ReadonlyMap<string, readonly string[]>): void;
  /** The gateway bridge's subnet; default: the first of 172.20.0.0/16 … 172.31.0.0/16 that no route in this netns overlaps. */
  gatewaySubnet?: string;
  /** How kernel tools are run; default: directly. Tests prefix `nsenter --net=/run/netns/<host>`. */
  runner?: CommandRunner;
  /**
   * Period of the resync of what lives in the host's namespace, which other software there can
   * change (a firewall reload flushing nft tables): the gateway bridge and its ports, published
   * ports, the underlay's notrack rule. 0 disables every resync. Default 30 s.
   */
  resyncIntervalMs?: number;
  /**
   * How often a resync also covers the sandboxes (their settings, peers, fast path, VIP tables,
   * ingress plumbing), which only tswarmd touches; rounded to whole resync periods (at least
   * one). Default 5 min.
   */
  sandboxResyncIntervalMs?: number;
  /** The eBPF fast path past the sandbox bridge (ebpf/); default on where the host allows it, false = the bridge path only. */
  fastPath?: boolean;
  /** How eBPF programs are loaded; default: the N-API addon (ebpf/loader.ts). Tests pass failing ones. */
  bpfLoader?: () => BpfLoader;
}

export const DEFAULT_RESYNC_INTERVAL_MS = 30_000;
/**
 * A whole resync of an unchanged node with two sandboxes is ≈ 28 process spawns; every 30 s that
 * was 2–4 % of a core per idle tswarmd, and the bursts took a third of an overlay transfer's
 * throughput for the second each ran (measured 2026-11-27 in a 3-host lab). The host's part is
 * ≈ 8 of them and stays at 30 s; the sandboxes' every 5 min.
 */
export const DEFAULT_SANDBOX_RESYNC_INTERVAL_MS = 300_000;
/** Namespaces programmed in parallel during one view: bounds process spawns in flight. */
const PARALLEL_NAMESPACES = 8;

interface ContainerState {
  readonly taskId: string;
  readonly serviceId: string;
  readonly nsName: string;
  /** Overlay networks in interface order, with the container's address on each (CIDR). */
  readonly nets: readonly { readonly networkId: string; readonly vni: number; readonly cidr: string }[];
  readonly gatewayIp: string;
  readonly ports: readonly PortConfig[];
  /** The VNIs reaching it directly: its transmit devices' (tx-devices.ts). */
  readonly receive: readonly EndpointReceive[];
}

/**
 * The containers' transmit devices, or undefined when the netlink writer that programs them is
 * missing (then containers send through their veths, as without the fast path).
 */
function transmitDevices(k: Kernel, fast: FastPath, opts: LinuxDataplaneOptions, log: Logger): TxDevices | undefined {
  try {
    return new TxDevices(k, fast, nativeNetlink(), opts, log);
  } catch (e) {
    log.warn('transmit devices unavailable; containers send through their veths', { reason: (e as Error).message });
    return undefined;
  }
}

export class LinuxDataplane implements Dataplane {
  readonly containerDns: readonly string[];
  private readonly queue = new SerialQueue();
  private readonly containers = new Map<string, ContainerState>();
  private readonly ports: PortsState = { hostRules: null };
  /** The data-path port the node table's underlay chains hold; null = unknown (rewrite). */
  private underlayPort: number | null = null;
  private view: NetworkView | undefined;
  private pendingView: NetworkView | undefined;
  private viewQueued = false;
  /** Set by the first sweep: from then on, unneeded sandboxes are deleted. */
  private swept = false;
  private closed = false;
  private lastClients = '';
  /**
   * Attaches queued together are plumbed together (in parallel, one sweep of the shared state
   * after): a service's replicas start at once, and each container's plumbing is a few process
   * spawns that would otherwise wait for every earlier container's.
   */
  private readonly attaches = new QueueBatch<{ task: Task; pid: number }>(this.queue, async (batch) => {
    const errors: Array<Error | undefined> = [];
    await forEachLimit([...batch.entries()], PARALLEL_NAMESPACES, async ([i, a]) => {
      try {
        await this.doAttach(a.task, a.pid);
      } catch (e) {
        errors[i] = e as Error; // doAttach throws Errors that say what failed
      }
    });
    await this.afterLocalChange();
    return errors;
  });
  /**
   * Likewise detaches: a service scaled down, or a node drained, stops its containers at once.
   * A batch may run before attaches queued after it was: never for the same task, whose
   * runner waits for its attach before it detaches.
   */
  private readonly detaches = new QueueBatch<string>(this.queue, async (taskIds) => {
    await forEachLimit(taskIds, PARALLEL_NAMESPACES, (id) => this.removeContainer(id));
    await this.afterLocalChange();
    return [];
  });
  private timer: NodeJS.Timeout | undefined;

  private constructor(
    private readonly opts: LinuxDataplaneOptions,
    private readonly k: Kernel,
    private readonly gateway: GatewayPlan,
    private readonly alloc: GatewayAllocator,
    private readonly sandboxes: SandboxSet,
    /** The containers' transmit devices (tx-plan.ts); undefined without the eBPF fast path. */
    private readonly tx: TxDevices | undefined,
    private readonly log: Logger,
  ) {
    this.containerDns = [gateway.bridgeIp];
  }

  /** Sets up (or adopts) the gateway bridge and this node's sandboxes. */
  static async create(opts: LinuxDataplaneOptions): Promise<LinuxDataplane> {
    const log = opts.logger.child('dataplane');
    const k = new Kernel(opts.runner ?? execRunner());
    const gateway = await setupGateway(k, opts.gatewaySubnet, log);
    const alloc = new GatewayAllocator(gateway.subnet);
    for (const h of await findOwnHandles(k, opts.namePrefix, gateway, new Set())) if (h.gatewayIp) alloc.reserve(h.gatewayIp);
    const fast = opts.fastPath === false ? undefined : await FastPath.create(k, { namePrefix: opts.namePrefix, nodeId: opts.nodeId, ...(opts.bpfLoader ? { loader: opts.bpfLoader } : {}) }, log);
    const sandboxes = new SandboxSet(k, opts, log, fast);
    for (const name of k.listNetns()) {
      const vni = parseSandboxName(opts.namePrefix, opts.nodeId, name);
      if (vni !== undefined) await sandboxes.adopt(name, vni);
    }
    const tx = fast ? transmitDevices(k, fast, opts, log) : undefined;
    const dp = new LinuxDataplane(opts, k, gateway, alloc, sandboxes, tx, log);
    const period = opts.resyncIntervalMs ?? DEFAULT_RESYNC_INTERVAL_MS;
    if (period > 0) {
      const sandboxesEvery = Math.max(1, Math.round((opts.sandboxResyncIntervalMs ?? DEFAULT_SANDBOX_RESYNC_INTERVAL_MS) / period));
      let n = 0;
      dp.timer = setInterval(() => {
        const withSandboxes = ++n % sandboxesEvery === 0;
        void dp.queue.push(() => dp.resync(withSandboxes));
      }, period);
      dp.timer.unref();
    }
    log.info('data plane ready', { gatewaySubnet: gateway.subnet, adoptedSandboxes: sandboxes.size, ebpfFastPath: !!fast });
    return dp;
  }

  setView(view: NetworkView): void {
    if (this.closed) return;
    this.pendingView = view;
    if (this.viewQueued) return; // coalesce: the queued operation will take the newest view
    this.viewQueued = true;
    void this.queue.push(async () => {
      this.viewQueued = false;
      const v = this.pendingView!;
      this.pendingView = undefined;
      if (this.closed) return;
      await this.applyView(v);
    });
  }

  attach(task: Task, pid: number): Promise<EndpointReceive[]> {
    if (this.closed) return Promise.reject(new Error('the network data plane is shut down'));
    return this.attaches.add({ task, pid }).then(() => [...(this.containers.get(task.id)?.receive ?? [])]);
  }

  detach(taskId: string): Promise<void> {
    return this.detaches.add(taskId);
  }

  sweep(keepTaskIds: ReadonlySet<string>): Promise<void> {
    return this.queue.push(async () => {
      this.swept = true;
      for (const id of [...this.containers.keys()]) if (!keepTaskIds.has(id)) await this.removeContainer(id);
      const keep12 = new Set([...keepTaskIds].map((id) => id.slice(0, 12)));
      for (const h of await findOwnHandles(this.k, this.opts.namePrefix, this.gateway, new Set())) {
        if (!keep12.has(h.task12)) await unplumbContainer(this.k, h.task12, h.nsName, this.sandboxes.names());
      }
      const keep10 = new Set([...keepTaskIds].map((id) => id.slice(0, 10)));
      const stray = await strayGatewayVeths(this.k, keep10);
      await this.k.ipBatch(undefined, stray.map((l) => `link del ${l}`), true).catch(() => undefined);
      const keepVeths = new Set([...keepTaskIds].map(sandboxVethName));
      await this.sandboxes.removeStrayVeths(keepVeths);
      await this.afterLocalChange();
    });
  }

  /** Resolves once every operation queued so far (views included) has been applied. */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  close(opts: { teardown: boolean }): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    return this.queue.push(async () => {
      if (this.closed) return;
      this.closed = true;
      if (!opts.teardown) return;
      for (const id of [...this.containers.keys()]) await this.removeContainer(id);
      for (const h of await findOwnHandles(this.k, this.opts.namePrefix, this.gateway, new Set())) {
        await unplumbContainer(this.k, h.task12, h.nsName, this.sandboxes.names());
      }
      for (const name of this.k.listNetns()) {
        const vni = parseSandboxName(this.opts.namePrefix, this.opts.nodeId, name);
        if (vni !== undefined) await deleteSandbox(this.k, name, vni);
      }
      await removeGateway(this.k, this.opts.nodeId);
      this.log.info('data plane torn down');
    });
  }

  // ---- operations (run on the queue only) ----

  /** Plumbs one container; runs concurrently with the others of its batch (see attach). */
  private async doAttach(task: Task, pid: number): Promise<void> {
    const nets = task.networks.map((a) => {
      const n = a.network;
      const name = n?.spec?.name || a.networkId;
      if (!n || !n.vni) throw new Error(`network ${name} of the task is not allocated yet (no VNI)`);
      if (n.spec?.driverOpts && 'encrypted' in n.spec.driverOpts) throw new Error(`encrypted overlay networks are not supported yet (network ${name})`);
      if (!a.addresses[0]) throw new Error(`the task has no address on network ${name}`);
      return { networkId: n.id || a.networkId, vni: n.vni, cidr: a.addresses[0], ingress: !!n.spec?.ingress };
    });
    const nsName = containerNsName(this.opts.namePrefix, task.id);
    try {
      const seenBefore = await ensureHandle(this.k, nsName, pid);
      const plumbed: { networkId: string; sandbox: string; cidr: string; mtu: number }[] = [];
      const txNets: TxNet[] = [];
      const dstPort = this.view?.dataPathPort || DEFAULT_VXLAN_PORT;
      for (const [index, n] of nets.entries()) {
        const sb = await this.sandboxes.ensure(n.vni, n.networkId, this.view);
        plumbed.push({ networkId: n.networkId, sandbox: sb.name, cidr: n.cidr, mtu: sb.mtu });
        // The routing mesh's replies go to br0s whose MAC changes with the ingress address: not worth a device.
        if (!n.ingress) txNets.push({ index, networkId: n.networkId, vni: n.vni, mtu: sb.mtu, dstPort, address: addrOf(n.cidr) });
      }
      const { gatewayIp, ifindexes } = await plumbContainer(this.k, { taskId: task.id, nsName, nets: plumbed, gateway: this.gateway }, () => this.alloc.allocate(), (ip) => this.alloc.release(ip), seenBefore);
      this.alloc.reserve(gatewayIp);
      // Before RUNNING: other nodes are told its devices' VNIs with it (tx-plan.ts).
      const receive = (await this.tx?.add(task.id, nsName, txNets, ifindexes)) ?? [];
      // A container plumbed by a tswarmd from before 2026-11-27 has VIP DNAT in its own
      // namespace, which would take its VIP connections before the sandbox's (lb.ts).
      if (seenBefore) await this.k.nft(nsName, dropTableScript(LB_TABLE)).catch(() => undefined);
      this.containers.set(task.id, {
        taskId: task.id, serviceId: task.serviceId, nsName, gatewayIp,
        nets: nets.map((n) => ({ networkId: n.networkId, vni: n.vni, cidr: n.cidr })),
        ports: task.endpoint?.ports ?? [], receive,
      });
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      this.log.warn('attach failed', { task: task.id, error: msg });
      throw new Error(msg.startsWith('encrypted') || msg.startsWith('network ') || msg.startsWith('the task') ? msg : `cannot plumb the container into its networks: ${msg}`);
    }
    // The caller (the attach batch) runs afterLocalChange once for the whole batch.
  }

  private async applyView(view: NetworkView): Promise<void> {
    this.view = view;
    await this.sandboxes.reconcileMesh(view, this.gateway, this.localVnis(), this.swept);
    await this.tx?.sync(view); // before the sandboxes' peers: see tx-plan.ts
    await this.sandboxes.syncAllPeers(view);
    await this.sandboxes.syncFastPath(this.localEndpoints());
    await this.sandboxes.syncLb(view, this.localAddrs());
    await syncIngress(this.k, this.sandboxes.ingressSandbox(), view, this.log);
    await syncHostPorts(this.k, this.ports, view, this.localPorts(), this.sandboxes.ingressSandbox() ? this.gateway.ingressIp : undefined, this.log);
    await this.syncUnderlay(view.dataPathPort || DEFAULT_VXLAN_PORT);
  }

  private async syncUnderlay(port: number): Promise<void> {
    if (this.underlayPort === port) return;
    try {
      await this.k.nft(undefined, renderUnderlayNotrack(port));
      this.underlayPort = port;
    } catch (e) {
      this.underlayPort = null;
      this.log.warn('underlay notrack rules not applied', { error: String(e) });
    }
  }

  /** After a local endpoint came or went: sandboxes, mesh, host ports, clients. */
  private async afterLocalChange(): Promise<void> {
    if (this.swept) await this.sandboxes.collect(this.localVnis());
    if (this.view) await this.applyView(this.view);
    else await syncHostPorts(this.k, this.ports, undefined, this.localPorts(), undefined, this.log);
    this.emitClients();
  }

  /**
   * The periodic backstop against kernel state changed behind our back. It restores what this
   * data plane owns and can make again idempotently and cheaply, touching nothing that is
   * already right. Every time, in the host's namespace: the gateway bridge (with its address,
   * MAC, nft table and forwarding) and the links that belong on it — the local containers'
   * gateway veths and the ingress sandbox's — put back on it when off it or down; the port rules
   * and the underlay's notrack rule (forgotten here, so the view below rewrites them).
   * `withSandboxes` (every sandboxResyncIntervalMs) adds each sandbox's settings; peers, fast
   * path and VIP tables (forgotten too, so the view rewrites them from the kernel); and the
   * ingress sandbox's plumbing (br0's address and MAC, gw0 with its veth, address and default
   * route, IP forwarding), checked with one read. Not restored: a container's own interfaces, or
   * a gateway veth deleted outright (its container's end went with it) — re-plumbing a
   * container takes its re-attach.
   */
  private async resync(withSandboxes: boolean): Promise<void> {
    if (this.closed) return;
    if (withSandboxes) this.sandboxes.forget();
    this.ports.hostRules = null;
    this.underlayPort = null;
    await setupGateway(this.k, this.gateway.subnet, this.log, this.gatewayPorts()).catch((e) => this.log.warn('resync of the gateway failed', { error: String(e) }));
    if (withSandboxes) await this.sandboxes.resyncSettings();
    if (this.view) await this.applyView(this.view);
  }

  /** The links that belong on the gateway bridge: each local container's gateway veth, and the ingress sandbox's. */
  private gatewayPorts(): string[] {
    const ports = [...this.containers.values()].map((c) => gatewayVethName(c.taskId));
    return this.sandboxes.ingressSandbox() ? [...ports, ingressVethName(this.opts.nodeId)] : ports;
  }

  private async removeContainer(taskId: string): Promise<void> {
    const c = this.containers.get(taskId);
    this.containers.delete(taskId);
    await this.tx?.remove(taskId);
    await unplumbContainer(this.k, taskId, containerNsName(this.opts.namePrefix, taskId), this.sandboxes.names());
    if (c) this.alloc.release(c.gatewayIp);
  }

  /** Per VNI, `pick` of each local container on that network, in task ID order (a stable one). */
  private perVni<T>(pick: (c: ContainerState, net: ContainerState['nets'][number]) => T): Map<number, T[]> {
    const m = new Map<number, T[]>();
    for (const c of [...this.containers.values()].sort((a, b) => (a.taskId < b.taskId ? -1 : 1))) {
      for (const n of c.nets) {
        const list = m.get(n.vni) ?? [];
        list.push(pick(c, n));
        m.set(n.vni, list);
      }
    }
    return m;
  }

  /** Per VNI, the local containers' sandbox-side veths and MACs (the fast path's inputs). */
  private localEndpoints(): Map<number, SandboxEndpoint[]> {
    return this.perVni((c, n) => ({ veth: sandboxVethName(c.taskId), mac: macFromIp(addrOf(n.cidr)) }));
  }

  /** Per VNI, the local containers' addresses (the sandboxes' load balancing's inputs). */
  private localAddrs(): Map<number, string[]> {
    return this.perVni((_c, n) => addrOf(n.cidr));
  }

  private localVnis(): Set<number> {
    return new Set([...this.containers.values()].flatMap((c) => c.nets.map((n) => n.vni)));
  }

  private localPorts(): { taskId: string; serviceId: string; gatewayIp: string; ports: readonly PortConfig[] }[] {
    return [...this.containers.values()].map((c) => ({ taskId: c.taskId, serviceId: c.serviceId, gatewayIp: c.gatewayIp, ports: c.ports }));
  }

  private emitClients(): void {
    if (!this.opts.onClients) return;
    const m = new Map<string, readonly string[]>();
    for (const c of [...this.containers.values()].sort((a, b) => (a.gatewayIp < b.gatewayIp ? -1 : 1))) m.set(c.gatewayIp, c.nets.map((n) => n.networkId));
    const key = JSON.stringify([...m]);
    if (key === this.lastClients) return;
    this.lastClients = key;
    try {
      this.opts.onClients(m);
    } catch (e) {
      this.log.warn('onClients failed', { error: String(e) });
    }
  }
}
