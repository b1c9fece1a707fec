// The node namespace's side: gateway bridge, IP forwarding, table `ip tswarm`, and finding
// what an earlier tswarmd on this node left behind. I/O only.
import type { Logger } from '@tswarm/api';
import { gatewayPlan, pickGatewaySubnet, type GatewayPlan } from './gateway.js';
import { cidrContains, formatBlock, parseCidr } from './ipv4.js';
import type { Kernel, KernelLink } from './kernel.js';
import { GATEWAY_BRIDGE, HOST_TABLE, ingressVethName, macFromIp, parseContainerNsName } from './names.js';
import { dropTableScript } from './nft.js';
import { allowForwarding, removeForwarding } from './forward-policy.js';
import { renderHostBase } from './host-table.js';

/**
 * Sets up (or adopts) the gateway bridge and the node's nft table. An existing bridge keeps
 * its subnet — running containers use it — even if `requested` differs (logged).
 *
 * `ports` are the links that belong on the bridge (the local containers' gateway veths, the
 * ingress sandbox's veth; the periodic resync passes them): each one that exists but is off
 * the bridge or down — the bridge was deleted and made again, say — is put back on it, up,
 * in the same `ip -batch` as the bridge. One that does not exist is left to its owner (a
 * gateway veth gone took the container's interface with it: only a re-attach re-plumbs it).
 */
export async function setupGateway(k: Kernel, requested: string | undefined, log: Logger, ports: readonly string[] = []): Promise<GatewayPlan> {
  const links = await k.links(undefined);
  const br = links.find((l) => l.ifname === GATEWAY_BRIDGE);
  let plan: GatewayPlan;
  if (br && br.cidrs.length > 0) {
    plan = gatewayPlan(br.cidrs[0]!);
    if (requested && formatBlock(parseCidr(requested)) !== plan.subnet) {
      log.warn('gateway bridge exists with another subnet; keeping it for the running containers', { existing: plan.subnet, requested });
    }
    await k.ipBatch(undefined, [...fixMac(br.mac, plan.bridgeIp), `link set ${GATEWAY_BRIDGE} up`, ...reattach(links, ports, log)]);
  } else {
    plan = gatewayPlan(requested ?? pickGatewaySubnet((await k.routes(undefined)).map((r) => r.dst)));
    await k.ipBatch(undefined, [
      ...(br ? [] : [`link add ${GATEWAY_BRIDGE} type bridge`]),
      ...fixMac(br?.mac ?? '', plan.bridgeIp),
      `addr add ${plan.bridgeIp}/${plan.prefix} dev ${GATEWAY_BRIDGE}`,
      `link set ${GATEWAY_BRIDGE} up`,
      ...reattach(links, ports, log),
    ]);
  }
  // Equivalent to writing /proc/sys/net/ipv4/ip_forward, but through the runner, so it lands
  // in the namespace the runner acts in.
  await k.sysctl(undefined, 'net.ipv4.ip_forward', '1');
  await k.nft(undefined, renderHostBase(plan.subnet));
  await allowForwarding(k).catch((e) => log.warn('could not allow forwarding through iptables FORWARD; containers may not reach outside and published ports may not answer', { error: String(e) }));
  return plan;
}

/**
 * A bridge without an address of its own takes the lowest MAC among its ports, so it would
 * change whenever a container's veth comes or goes — and every container's ARP entry for
 * its default gateway (and nameserver) would point at a MAC that no longer answers until it
 * expires. Measured here: DNS from a container timed out for seconds after a neighbouring
 * container was removed. The bridge gets a fixed MAC derived from its IP, as Docker's do.
 */
function fixMac(current: string, bridgeIp: string): string[] {
  const mac = macFromIp(bridgeIp);
  return current === mac ? [] : [`link set ${GATEWAY_BRIDGE} address ${mac}`];
}

/** `ip` lines putting each of `ports` that exists but is off the bridge or down back on it, up (logged). */
function reattach(links: readonly KernelLink[], ports: readonly string[], log: Logger): string[] {
  const want = new Set(ports);
  const off = links.filter((l) => want.has(l.ifname) && (l.master !== GATEWAY_BRIDGE || !l.up)).map((l) => l.ifname);
  if (off.length > 0) log.info('links put back on the gateway bridge', { links: off });
  return off.map((l) => `link set ${l} master ${GATEWAY_BRIDGE} up`);
}

/** Removes the bridge, the ingress veth and table `ip tswarm`. Never throws. */
export async function removeGateway(k: Kernel, nodeId: string): Promise<void> {
  await k.ipBatch(undefined, [`link del ${ingressVethName(nodeId)}`, `link del ${GATEWAY_BRIDGE}`], true).catch(() => undefined);
  await removeForwarding(k);
  await k.nft(undefined, dropTableScript(HOST_TABLE)).catch(() => undefined);
}

export interface OwnHandle {
  readonly nsName: string;
  /** The first 12 characters of the task ID. */
  readonly task12: string;
  readonly gatewayIp?: string;
}

/**
 * Container handles that belong to this node. Handles are global and carry only a task ID,
 * so a handle is ours when its container has a veth (`tg<task10>`) on our gateway bridge —
 * or is one of `known`. Reads each of our handles' addresses to recover gateway IPs.
 */
export async function findOwnHandles(k: Kernel, prefix: string, gateway: GatewayPlan, known: ReadonlySet<string>): Promise<OwnHandle[]> {
  const ours = new Set((await k.links(undefined)).filter((l) => l.master === GATEWAY_BRIDGE && l.ifname.startsWith('tg')).map((l) => l.ifname.slice(2)));
  const block = parseCidr(gateway.subnet);
  const out: OwnHandle[] = [];
  for (const nsName of k.listNetns()) {
    const task12 = parseContainerNsName(prefix, nsName);
    if (!task12 || (!ours.has(task12.slice(0, 10)) && !known.has(nsName))) continue;
    let gatewayIp: string | undefined;
    try {
      for (const l of await k.links(nsName)) gatewayIp ??= l.addrs.find((a) => cidrContains(block, parseCidr(a).ip));
    } catch {
      // a dead handle: still ours to remove
    }
    out.push({ nsName, task12, ...(gatewayIp ? { gatewayIp } : {}) });
  }
  return out;
}

/** `tg…` links on our bridge whose container is not in `keepTask10` (task-ID prefixes). */
export async function strayGatewayVeths(k: Kernel, keepTask10: ReadonlySet<string>): Promise<string[]> {
  return (await k.links(undefined)).filter((l) => l.master === GATEWAY_BRIDGE && l.ifname.startsWith('tg') && !keepTask10.has(l.ifname.slice(2))).map((l) => l.ifname);
}
