// Address allocation on overlay networks: service VIPs, task addresses and each node's
// address on the ingress network.
//
// Pure (STYLE 1), like networks.ts: the book is built from the store's current objects in
// one read, allocations are recorded in it as the caller makes them, and the caller writes
// the results. The objects *are* the allocation state — an address is held by the object
// that carries it for as long as that object holds it, and freed by no bookkeeping at all:
//   - a network's gateway, always;
//   - a service's VIP on each network it is attached to (VIP endpoint mode);
//   - a task's address while the task has not ended (an ended task's container and its
//     interfaces are gone; its record stays in history without holding anything);
//   - a node's ingress address while the node is in the cluster.
// Reusing a freed address at once is safe on the data plane because MACs are derived
// from addresses (02:42:<IPv4>): a neighbour entry for a reused address stays correct.
import { PublishMode, TaskState, type Network, type NetworkAttachment, type Node, type Service, type Task } from '@tswarm/api';
import { containsAddr, formatIPv4, lastAddr, parseCidr, parseIPv4, type Cidr } from './cidr.js';

export type AddressResult = { ok: true; cidr: string } | { ok: false; message: string };

interface Pool {
  network: Network;
  subnet: Cidr;
  /** Where addresses are drawn from: --ip-range when given, else the subnet. */
  range: Cidr;
  used: Set<number>;
  /** Lowest address not yet known to be used; allocation scans up from here. */
  cursor: number;
}

/** The address part of "10.0.1.5/24". */
export function addressOf(cidr: string): string {
  const slash = cidr.indexOf('/');
  return slash < 0 ? cidr : cidr.slice(0, slash);
}

/** A task holds its addresses until it has ended (its container, and so its interfaces, are gone). */
export function holdsAddresses(t: Task): boolean {
  return (t.status?.state ?? TaskState.TASK_STATE_NEW) <= TaskState.TASK_STATE_RUNNING;
}

/** Services in VIP mode (the default) get one virtual IP per attached network. */
export function wantsVips(s: Service): boolean {
  return (s.spec?.endpoint?.mode ?? 0) === 0;
}

/** The service publishes a port through the routing mesh, so its tasks join the ingress network. */
export function usesIngress(s: Service): boolean {
  return (s.endpoint?.ports ?? []).some((p) => p.publishMode === PublishMode.PUBLISH_MODE_INGRESS);
}

export class AddressBook {
  private readonly pools = new Map<string, Pool>();

  constructor(networks: readonly Network[]) {
    for (const network of networks) {
      const subnet = parseCidr(network.ipam?.subnet ?? '');
      if (!subnet.ok) continue; // never allocated: nothing can be drawn from it
      const ranged = network.ipam?.ipRange ? parseCidr(network.ipam.ipRange) : undefined;
      const range = ranged?.ok ? ranged.cidr : subnet.cidr;
      const used = new Set<number>([subnet.cidr.addr, lastAddr(subnet.cidr)]);
      const gw = parseIPv4(network.ipam?.gateway ?? '');
      if (gw !== undefined) used.add(gw);
      this.pools.set(network.id, { network, subnet: subnet.cidr, range, used, cursor: range.addr });
    }
  }

  /** The book for the store's current state: every address the objects hold is marked used. */
  static from(state: { networks: readonly Network[]; services: readonly Service[]; tasks: readonly Task[]; nodes: readonly Node[] }): AddressBook {
    const book = new AddressBook(state.networks);
    for (const s of state.services) for (const v of s.endpoint?.virtualIps ?? []) book.mark(v.networkId, v.addr);
    for (const t of state.tasks) {
      if (!holdsAddresses(t)) continue;
      for (const a of t.networks) for (const addr of a.addresses) book.mark(a.networkId, addr);
    }
    for (const n of state.nodes) for (const a of n.attachments) for (const addr of a.addresses) book.mark(a.networkId, addr);
    return book;
  }

  network(id: string): Network | undefined {
    return this.pools.get(id)?.network;
  }

  /** Records an address as held (an unknown network or a malformed address is ignored). */
  mark(networkId: string, cidr: string): void {
    const ip = parseIPv4(addressOf(cidr));
    if (ip !== undefined) this.pools.get(networkId)?.used.add(ip);
  }

  /** Gives out the lowest free address of the network's range, as CIDR with the subnet's prefix. */
  allocate(networkId: string): AddressResult {
    const pool = this.pools.get(networkId);
    if (!pool) return { ok: false, message: `network ${networkId} does not exist (any more)` };
    const end = lastAddr(pool.range);
    for (let ip = pool.cursor; ip <= end; ip++) {
      if (pool.used.has(ip) || !containsAddr(pool.subnet, ip)) continue;
      pool.used.add(ip);
      pool.cursor = ip + 1;
      return { ok: true, cidr: `${formatIPv4(ip)}/${pool.subnet.prefix}` };
    }
    pool.cursor = end + 1;
    const name = pool.network.spec?.name || pool.network.id;
    const where = pool.network.ipam?.ipRange ? `${pool.network.ipam.subnet}, range ${pool.network.ipam.ipRange}` : pool.network.ipam?.subnet;
    return { ok: false, message: `no IP address left in network ${name} (${where})` };
  }

  /** Returns an address given out in this pass that will not be written after all. */
  release(networkId: string, cidr: string): void {
    const pool = this.pools.get(networkId);
    const ip = parseIPv4(addressOf(cidr));
    if (!pool || ip === undefined) return;
    pool.used.delete(ip);
    pool.cursor = Math.min(pool.cursor, ip);
  }
}

/**
 * The task's attachments: one per network of its spec (targets are network IDs) and, when
 * its service publishes through the routing mesh, the ingress network last. All or
 * nothing: when one network is full the addresses already drawn are given back and the
 * task stays unallocated with the reason.
 */
export function allocateTaskNetworks(
  book: AddressBook,
  task: Task,
  opts: { ingressId?: string },
): { ok: true; networks: NetworkAttachment[] } | { ok: false; message: string } {
  const wanted: Array<{ networkId: string; aliases: string[] }> = (task.spec?.networks ?? []).map((n) => ({ networkId: n.target, aliases: [...n.aliases] }));
  if (opts.ingressId && !wanted.some((w) => w.networkId === opts.ingressId)) wanted.push({ networkId: opts.ingressId, aliases: [] });
  const out: NetworkAttachment[] = [];
  for (const w of wanted) {
    const got = book.allocate(w.networkId);
    if (!got.ok) {
      for (const a of out) for (const addr of a.addresses) book.release(a.networkId, addr);
      return got;
    }
    out.push({ networkId: w.networkId, addresses: [got.cidr], aliases: w.aliases, network: book.network(w.networkId) });
  }
  return { ok: true, networks: out };
}
