// This node's overlay sandboxes and what was programmed in each: their lifecycle (create on
// first need, adopt at start, delete when unneeded), their remote peers and VIP load balancing
// (diffed per view) and which one is the ingress sandbox. Owned by LinuxDataplane and used only
// from its queue.
import type { Logger, NetworkView } from '@tswarm/api';
import type { GatewayPlan } from './gateway.js';
import type { Kernel } from './kernel.js';
import { overlayMtu, underlayMtu } from './mtu.js';
import { INGRESS_SANDBOX_GW_LINK, SANDBOX_BRIDGE, sandboxBridgeMac, sandboxName, vxlanName } from './names.js';
import { bridgeAddrLines, planSandboxLb, renderLbDiff, renderLbFull, type LbPlan } from './lb.js';
import { desiredPeers, diffPeers, underlayHost, type Peer } from './peers.js';
import { ingressNetworkOf, needsIngressMesh, renderIngressTable } from './ports.js';
import { applyPeers, applySandboxSettings, createSandbox, deleteSandbox, DEFAULT_VXLAN_PORT, ensureIngressExtras, readPeers, removeIngressExtras } from './sandbox.js';
import { forEachLimit } from './serial.js';
import type { FastPath } from './ebpf/fastpath.js';
import type { SandboxEndpoint } from './ebpf/plan.js';

export interface SandboxState {
  readonly vni: number;
  readonly name: string;
  /** Known from an attachment or the view; undefined for an adopted sandbox until then. */
  networkId: string | undefined;
  readonly mtu: number;
  /** Remote peers as programmed, by IP; null = unknown (read the kernel before diffing). */
  peers: Map<string, Peer> | null;
  /**
   * Set while this is the node's ingress sandbox: its address, its port rules (null = rewrite
   * the table) and whether its plumbing (br0's address, gw0, forwarding) is known to be in
   * place (false = check it against the kernel and put back what is missing).
   */
  ingress: { cidr: string; rules: string[] | null; plumbed: boolean } | undefined;
  /** What the eBPF fast path was last applied for (its inputs as a key); null = unknown, apply again. */
  fastPath: string | null;
  /** br0's MAC (names.ts sandboxBridgeMac, except in the ingress sandbox, whose MAC comes from its address). */
  readonly bridgeMac: string;
  /** The VIP load balancing as programmed (lb.ts); null = unknown: read br0's addresses and rewrite the tables whole. */
  lb: LbPlan | null;
}

const PARALLEL_SANDBOXES = 8;

export class SandboxSet {
  private readonly byVni = new Map<number, SandboxState>();
  /** Creations in flight, by VNI (see ensure). */
  private readonly creating = new Map<number, Promise<SandboxState>>();
  /** Underlay MTU, cached once measured for the view's own underlay address. */
  private underlay: number | undefined;

  constructor(
    private readonly k: Kernel,
    private readonly ids: { readonly namePrefix: string; readonly nodeId: string },
    private readonly log: Logger,
    /** The eBPF fast path (ebpf/fastpath.ts); undefined where the host cannot have it. */
    private readonly fast: FastPath | undefined,
  ) {}

  get size(): number {
    return this.byVni.size;
  }

  names(): string[] {
    return [...this.byVni.values()].map((s) => s.name);
  }

  /**
   * Records a sandbox found at start-up; its peers are read back before the first diff. A
   * stale name (its namespace died with an earlier mount namespace) is removed instead, and
   * the sandbox is rebuilt on the next attach.
   */
  async adopt(name: string, vni: number): Promise<void> {
    if (!this.k.netnsLive(name)) {
      this.log.warn('stale sandbox name removed (its namespace is gone)', { sandbox: name });
      await this.k.ip(undefined, ['netns', 'del', name]).catch(() => undefined);
      return;
    }
    const links = await this.k.links(name).catch(() => []);
    const br = links.find((l) => l.ifname === SANDBOX_BRIDGE);
    const hasGw = links.some((l) => l.ifname === INGRESS_SANDBOX_GW_LINK);
    await this.quiet(name); // made by an older tswarmd, perhaps
    // …whose bridge learned on the VXLAN port (peers.ts peerCommands says why it must not).
    if (br) await this.k.ipBatch(name, [`link set dev ${vxlanName(vni)} type bridge_slave learning off`]).catch((e: unknown) => this.log.warn('sandbox bridge still learns on its VXLAN port', { sandbox: name, error: String(e) }));
    // An older tswarmd left br0's MAC to the kernel: set it, as a new sandbox has it.
    let bridgeMac = sandboxBridgeMac(this.ids.nodeId, vni);
    if (hasGw || !br) bridgeMac = br?.mac ?? bridgeMac;
    else if (br.mac !== bridgeMac) {
      await this.k.ipBatch(name, [`link set ${SANDBOX_BRIDGE} address ${bridgeMac}`]).catch((e: unknown) => {
        this.log.warn('sandbox bridge MAC not set; VIP replies follow its current one', { sandbox: name, error: String(e) });
        bridgeMac = br.mac;
      });
    }
    this.byVni.set(vni, {
      vni, name, networkId: undefined, mtu: br?.mtu ?? overlayMtu(1500), peers: null, fastPath: null, bridgeMac, lb: null,
      ingress: hasGw ? { cidr: br?.cidrs[0] ?? '', rules: null, plumbed: false } : undefined,
    });
  }

  /** The sandbox for `vni`, created if missing (peers programmed at once when a view is known). */
  /**
   * The network's sandbox, created if missing. Safe to call concurrently (containers are
   * plumbed in parallel): a creation in flight is shared, never started twice.
   */
  async ensure(vni: number, networkId: string, view: NetworkView | undefined): Promise<SandboxState> {
    const inFlight = this.creating.get(vni);
    if (inFlight) return inFlight;
    const p = this.ensureOnce(vni, networkId, view).finally(() => this.creating.delete(vni));
    this.creating.set(vni, p);
    return p;
  }

  private async ensureOnce(vni: number, networkId: string, view: NetworkView | undefined): Promise<SandboxState> {
    let sb = this.byVni.get(vni);
    if (!sb) {
      const name = sandboxName(this.ids.namePrefix, vni, this.ids.nodeId);
      const mtu = overlayMtu(await this.underlayMtu(view));
      const bridgeMac = sandboxBridgeMac(this.ids.nodeId, vni);
      await createSandbox(this.k, { name, vni, mtu, dstPort: view?.dataPathPort || DEFAULT_VXLAN_PORT, bridgeMac });
      sb = { vni, name, networkId, mtu, peers: new Map(), ingress: undefined, fastPath: null, bridgeMac, lb: null };
      this.byVni.set(vni, sb);
      this.log.info('overlay sandbox created', { sandbox: name, vni, mtu });
      if (view) await this.syncPeers(sb, view);
    }
    sb.networkId ??= networkId;
    return sb;
  }

  /**
   * Brings the routing mesh in line with the view: the ingress sandbox exists (with its
   * extras) while any service publishes an ingress-mode port and this node has its ingress
   * address. Extras are removed — or the sandbox, when no local task uses it — only once
   * the node has swept (before that an adopted container may still need them).
   */
  async reconcileMesh(view: NetworkView, gateway: GatewayPlan, localVnis: ReadonlySet<number>, swept: boolean): Promise<void> {
    const ing = ingressNetworkOf(view);
    const me = view.nodes.find((n) => n.nodeId === this.ids.nodeId);
    const want = ing && me?.ingressAddr && needsIngressMesh(view) ? { ...ing, cidr: me.ingressAddr } : undefined;
    try {
      if (want) {
        const sb = await this.ensure(want.vni, want.id, view);
        const spec = { sandbox: sb.name, nodeId: this.ids.nodeId, ingressCidr: want.cidr, gateway };
        if (!sb.ingress || sb.ingress.cidr !== want.cidr) {
          await ensureIngressExtras(this.k, spec, renderIngressTable([]));
          sb.ingress = { cidr: want.cidr, rules: [], plumbed: true };
          this.log.info('routing mesh enabled', { sandbox: sb.name, ingressAddr: want.cidr });
        } else if (!sb.ingress.plumbed) {
          const putBack = await ensureIngressExtras(this.k, spec);
          sb.ingress.plumbed = true;
          if (putBack.length > 0) this.log.info('routing mesh plumbing put back', { sandbox: sb.name, missing: putBack });
        }
      }
      if (!swept) return;
      for (const sb of [...this.byVni.values()]) {
        if (!sb.ingress || sb.vni === want?.vni) continue;
        if (localVnis.has(sb.vni)) await removeIngressExtras(this.k, sb.name, this.ids.nodeId);
        else await this.remove(sb);
        sb.ingress = undefined;
        this.log.info('routing mesh disabled', { sandbox: sb.name });
      }
    } catch (e) {
      this.log.warn('routing mesh not reconciled', { error: String(e) });
    }
  }

  ingressSandbox(): SandboxState | undefined {
    return [...this.byVni.values()].find((s) => s.ingress);
  }

  async syncAllPeers(view: NetworkView): Promise<void> {
    await forEachLimit([...this.byVni.values()], PARALLEL_SANDBOXES, (sb) => this.syncPeers(sb, view));
  }

  /** Programs the difference between what the sandbox holds and what the view asks (RFC 7348 §4). */
  async syncPeers(sb: SandboxState, view: NetworkView): Promise<void> {
    const net = view.networks.find((n) => n.vni === sb.vni);
    if (net) sb.networkId = net.id;
    if (!sb.networkId) return;
    try {
      const programmed = sb.peers ?? (await readPeers(this.k, sb.name, sb.vni));
      const desired = desiredPeers(view, sb.networkId, this.ids.nodeId, !!net?.spec?.ingress);
      const diff = diffPeers(programmed, desired);
      if (diff.put.length || diff.del.length) await applyPeers(this.k, sb.name, sb.vni, diff);
      sb.peers = desired;
    } catch (e) {
      sb.peers = null;
      this.log.warn('peers not programmed', { sandbox: sb.name, error: String(e) });
    }
  }

  /**
   * Brings each sandbox's eBPF fast path in line with its local endpoints (by VNI). Inputs
   * unchanged since the last success → nothing to do. A failure takes the fast path's filters
   * off that sandbox (a program with a stale endpoint list would send a new local container's
   * frames to the VXLAN device) and leaves the bridge path, which is always there, to carry
   * the traffic; the next view or resync tries again.
   */
  async syncFastPath(endpoints: ReadonlyMap<number, readonly SandboxEndpoint[]>): Promise<void> {
    const fast = this.fast;
    if (!fast) return;
    await forEachLimit([...this.byVni.values()], PARALLEL_SANDBOXES, async (sb) => {
      const eps = endpoints.get(sb.vni) ?? [];
      // br0's MAC changes when a sandbox becomes the ingress sandbox: part of the key.
      const key = JSON.stringify([eps, sb.ingress?.cidr ?? '']);
      if (sb.fastPath === key) return;
      try {
        const { veths } = await fast.apply(sb.name, sb.vni, eps);
        sb.fastPath = key;
        this.log.debug('eBPF fast path applied', { sandbox: sb.name, endpoints: eps.length, veths });
      } catch (e) {
        sb.fastPath = null;
        this.log.warn('eBPF fast path not applied; the sandbox bridge carries the traffic', { sandbox: sb.name, error: String(e) });
        await fast.clear(sb.name, sb.vni);
      }
    });
  }

  /**
   * Brings each sandbox's VIP load balancing (lb.ts) in line with the view and the node's
   * containers on its network (addresses, by VNI): one nft transaction with what changed, then
   * br0's addresses. A failure leaves the sandbox's record unknown, so the next view or resync
   * rewrites it whole.
   */
  async syncLb(view: NetworkView, local: ReadonlyMap<number, readonly string[]>): Promise<void> {
    await forEachLimit([...this.byVni.values()], PARALLEL_SANDBOXES, async (sb) => {
      if (sb.ingress || !sb.networkId) return;
      const plan = planSandboxLb(view, sb.networkId, local.get(sb.vni) ?? [], sb.bridgeMac);
      if (!plan) return;
      try {
        const script = sb.lb ? renderLbDiff(sb.lb, plan) : renderLbFull(plan);
        if (script) await this.k.nft(sb.name, script);
        const have = sb.lb ? sb.lb.addrs : ((await this.k.links(sb.name)).find((l) => l.ifname === SANDBOX_BRIDGE)?.cidrs ?? []);
        const lines = bridgeAddrLines(have, plan.addrs, SANDBOX_BRIDGE);
        if (lines.length > 0) await this.k.ipBatch(sb.name, lines);
        sb.lb = plan;
      } catch (e) {
        sb.lb = null;
        this.log.warn('load-balancing rules not applied', { sandbox: sb.name, error: String(e) });
      }
    });
  }

  /** Deletes sandboxes that no local task uses and that are not the ingress sandbox. */
  async collect(localVnis: ReadonlySet<number>): Promise<void> {
    for (const sb of [...this.byVni.values()]) if (!localVnis.has(sb.vni) && !sb.ingress) await this.remove(sb);
  }

  /** Deletes sandbox-side veths (`v…` on br0) whose task is not kept. */
  async removeStrayVeths(keepVeths: ReadonlySet<string>): Promise<void> {
    for (const sb of this.byVni.values()) {
      const stray = (await this.k.links(sb.name).catch(() => [])).filter((l) => l.master === SANDBOX_BRIDGE && l.ifname.startsWith('v') && !/^vx\d+$/.test(l.ifname) && !keepVeths.has(l.ifname));
      await this.k.ipBatch(sb.name, stray.map((l) => `link del ${l.ifname}`), true).catch(() => undefined);
    }
  }

  /**
   * Re-applies the sandboxes' per-namespace settings (periodic resync): loading br_netfilter
   * after a sandbox exists turns it on there again; forwarding and redirects (VIPs) are put back.
   */
  async resyncSettings(): Promise<void> {
    await forEachLimit([...this.byVni.values()], PARALLEL_SANDBOXES, (sb) => this.quiet(sb.name));
  }

  private async quiet(name: string): Promise<void> {
    await applySandboxSettings(this.k, name).catch((e) => this.log.warn('sandbox settings not applied', { sandbox: name, error: String(e) }));
  }

  /** Marks everything unknown, so the next view rewrites from kernel state (periodic resync). */
  forget(): void {
    for (const sb of this.byVni.values()) {
      sb.peers = null;
      sb.fastPath = null;
      sb.lb = null;
      if (sb.ingress) {
        sb.ingress.rules = null;
        sb.ingress.plumbed = false;
      }
    }
  }

  private async remove(sb: SandboxState): Promise<void> {
    if (sb.ingress) await removeIngressExtras(this.k, sb.name, this.ids.nodeId);
    await deleteSandbox(this.k, sb.name, sb.vni);
    this.byVni.delete(sb.vni);
    this.log.info('overlay sandbox removed', { sandbox: sb.name });
  }

  private async underlayMtu(view: NetworkView | undefined): Promise<number> {
    if (this.underlay) return this.underlay;
    const me = view?.nodes.find((n) => n.nodeId === this.ids.nodeId);
    const addr = me?.addr ? underlayHost(me.addr) : undefined;
    const [links, routes] = await Promise.all([this.k.links(undefined), this.k.routes(undefined)]);
    const mtu = underlayMtu(links, addr, routes.find((r) => r.dst === 'default')?.dev);
    if (addr) this.underlay = mtu;
    return mtu;
  }
}
