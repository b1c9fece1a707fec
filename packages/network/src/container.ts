// Plumbing one container: its namespace handle, one veth per overlay network (sandbox end on
// br0, container end eth0, eth1, … in task.networks order) and a last veth to the gateway
// bridge carrying its default route. I/O only.
//
// Idempotent and adopting: the container's interfaces are read first; an interface already
// there with the expected address is kept, and the gateway address is read back from the
// kernel rather than from a file, so a restarted tswarmd re-attaching a running container
// changes nothing and learns its gateway address.
import { cidrContains, parseCidr } from './ipv4.js';
import type { GatewayPlan } from './gateway.js';
import { CommandError } from './runner.js';
import type { Kernel, KernelLink } from './kernel.js';
import { GATEWAY_BRIDGE, SANDBOX_BRIDGE, containerIfName, gatewayVethName, macFromIp, sandboxVethName } from './names.js';
import { addrOf } from './ipv4.js';

/** One overlay attachment, in interface order. */
export interface ContainerNet {
  readonly networkId: string;
  readonly sandbox: string;
  /** The task's address on the network (CIDR). */
  readonly cidr: string;
  readonly mtu: number;
}

export interface PlumbSpec {
  readonly taskId: string;
  /** The handle's name (`ip netns attach`). */
  readonly nsName: string;
  readonly nets: readonly ContainerNet[];
  readonly gateway: GatewayPlan;
}

/**
 * Makes `nsName` a handle on the network namespace of `pid` (replacing a stale one). Returns
 * true when the handle was already there: the container may have been plumbed before (an
 * agent restart re-attaching it). A new handle means a container nobody plumbed yet —
 * handles live in /run/netns on the host's mounts and outlive tswarmd — which lets
 * plumbContainer skip reading its interfaces (one process spawn less per container start).
 */
export async function ensureHandle(k: Kernel, nsName: string, pid: number): Promise<boolean> {
  if (k.handleIsFor(nsName, pid)) return true;
  if (k.netnsExists(nsName)) await k.ip(undefined, ['netns', 'del', nsName]);
  await k.ip(undefined, ['netns', 'attach', nsName, String(pid)]);
  return false;
}

/** The container's address on the gateway subnet, if its gateway interface has one. */
export function gatewayIpOf(links: readonly KernelLink[], ifname: string, gateway: GatewayPlan): string | undefined {
  const block = parseCidr(gateway.subnet);
  const l = links.find((x) => x.ifname === ifname);
  return l?.addrs.find((a) => cidrContains(block, parseCidr(a).ip));
}

/** Runs an `ip -batch` that adds a veth, deleting a same-named leftover first if needed. */
async function addVeth(k: Kernel, ns: string | undefined, name: string, lines: readonly string[]): Promise<void> {
  try {
    await k.ipBatch(ns, lines);
  } catch (e) {
    if (!(e instanceof CommandError) || !/exists/i.test(e.stderr)) throw e;
    await k.ipBatch(ns, [`link del ${name}`], true).catch(() => undefined);
    await k.ipBatch(ns, lines);
  }
}

/**
 * Plumbs what is missing. `allocate` is called only when the container has no gateway
 * address yet; `release` gets it back if plumbing then fails. Returns the gateway address and,
 * read in the same process as the last step, every link's ifindex in the container after.
 */
export async function plumbContainer(
  k: Kernel, p: PlumbSpec, allocate: () => string, release: (ip: string) => void, seenBefore = true,
): Promise<{ gatewayIp: string; ifindexes: ReadonlyMap<string, number> }> {
  const links = seenBefore ? await k.links(p.nsName) : [];
  const inner: string[] = ['link set lo up'];
  for (const [i, net] of p.nets.entries()) {
    const ifn = containerIfName(i);
    const have = links.find((l) => l.ifname === ifn);
    if (have) {
      if (!have.cidrs.includes(net.cidr)) throw new Error(`the container already has ${ifn} with ${have.cidrs.join(', ') || 'no address'}, expected ${net.cidr}`);
      continue;
    }
    const veth = sandboxVethName(p.taskId);
    await addVeth(k, net.sandbox, veth, [
      `link add ${veth} mtu ${net.mtu} type veth peer name ${ifn} mtu ${net.mtu} address ${macFromIp(addrOf(net.cidr))} netns ${p.nsName}`,
      `link set ${veth} master ${SANDBOX_BRIDGE} up`,
    ]);
    inner.push(`addr add ${net.cidr} dev ${ifn}`, `link set ${ifn} up`);
  }

  const gwIf = containerIfName(p.nets.length);
  let gatewayIp = gatewayIpOf(links, gwIf, p.gateway);
  let fresh = false;
  if (!gatewayIp) {
    gatewayIp = allocate();
    fresh = true;
    const host = gatewayVethName(p.taskId);
    try {
      await addVeth(k, undefined, host, [`link add ${host} type veth peer name ${gwIf} netns ${p.nsName}`, `link set ${host} master ${GATEWAY_BRIDGE} up`]);
    } catch (e) {
      release(gatewayIp);
      throw e;
    }
    inner.push(`addr add ${gatewayIp}/${p.gateway.prefix} dev ${gwIf}`, `link set ${gwIf} up`);
  }
  inner.push(`route replace default via ${p.gateway.bridgeIp} dev ${gwIf}`, 'link show');
  let shown: unknown[][];
  try {
    shown = await k.ipBatchJson(p.nsName, inner);
  } catch (e) {
    if (fresh) release(gatewayIp);
    throw e;
  }
  const ifindexes = new Map(((shown.at(-1) ?? []) as { ifname?: string; ifindex?: number }[]).map((l) => [l.ifname ?? '', l.ifindex ?? 0] as const));
  return { gatewayIp, ifindexes };
}

/**
 * Removes what plumbContainer made: the sandbox ends (which take the container ends with
 * them), the gateway veth and the handle. Deleting the links explicitly makes it synchronous
 * (a namespace kept only by its handle dies asynchronously). Never throws.
 */
export async function unplumbContainer(k: Kernel, taskId: string, nsName: string, sandboxes: readonly string[]): Promise<void> {
  const veth = sandboxVethName(taskId);
  await Promise.all([
    ...sandboxes.filter((s) => k.netnsExists(s)).map((s) => k.ipBatch(s, [`link del ${veth}`], true).catch(() => undefined)),
    k.ipBatch(undefined, [`link del ${gatewayVethName(taskId)}`], true).catch(() => undefined),
  ]);
  if (k.netnsExists(nsName)) await k.ip(undefined, ['netns', 'del', nsName]).catch(() => undefined);
}
