// Published ports: the node namespace's DNAT rules and the ingress sandbox's routing mesh.
// Pure planners + nft renderers.
//
// Node namespace, table `ip tswarm`, chain `ports` (jumped to from nat prerouting for packets
// to a local address, and from nat output for local clients, loopback excluded):
//   ingress mode  `<proto> dport <published> dnat to <ingress sandbox gateway IP>:<published>`
//   host mode     `<proto> dport <published> dnat to <container gateway IP>:<target>`,
//                 only for a task of the service running on this node (the lowest task ID
//                 when several are: one port can have only one owner per node).
// Ingress sandbox, table `ip tswarm_ingress`: packets that came in on its gateway-side veth
// are DNATed over the service's ACTIVE endpoints on the ingress network, and masqueraded out
// of br0 so replicas answer this sandbox (routing-mesh semantics: the source is lost, as in
// Swarm). With no active endpoint there is no rule: nothing listens in the sandbox, so the
// kernel refuses at once (TCP RST, ICMP port unreachable for UDP).
import { PortProtocol, PublishMode, type NetworkView, type PortConfig } from '@tswarm/api';
import { INGRESS_SANDBOX_GW_LINK, INGRESS_TABLE, SANDBOX_BRIDGE } from './names.js';
import { activeBackends } from './lb.js';
import { chainBlock, dnatSpread, replaceTableScript } from './nft.js';

export const PORTS_CHAIN = 'ports';

export function protoName(p: PortProtocol): 'tcp' | 'udp' {
  return p === PortProtocol.PORT_PROTOCOL_UDP ? 'udp' : 'tcp';
}

function isIngress(p: PortConfig): boolean {
  return p.publishMode === PublishMode.PUBLISH_MODE_INGRESS && p.publishedPort > 0;
}

/** Whether this node needs the ingress sandbox for the routing mesh. */
export function needsIngressMesh(view: NetworkView): boolean {
  return view.services.some((s) => s.ports.some(isIngress));
}

/** The view's ingress network, if any. */
export function ingressNetworkOf(view: NetworkView): { id: string; vni: number } | undefined {
  const n = view.networks.find((x) => x.spec?.ingress);
  return n ? { id: n.id, vni: n.vni } : undefined;
}

/** A task plumbed on this node, as the port planner needs it. */
export interface LocalTaskPorts {
  readonly taskId: string;
  readonly serviceId: string;
  readonly gatewayIp: string;
  /** The task's own published ports (Task.endpoint.ports), used when its service is not in the view. */
  readonly ports: readonly PortConfig[];
}

export function planHostPortRules(view: NetworkView, local: readonly LocalTaskPorts[], ingressSandboxIp: string | undefined): string[] {
  const rules: string[] = [];
  const taken = new Set<string>();
  const add = (proto: string, port: number, rule: string): void => {
    const key = `${proto}/${port}`;
    if (taken.has(key)) return; // the first owner wins; the manager keeps published ports unique
    taken.add(key);
    rules.push(rule);
  };
  if (ingressSandboxIp) {
    for (const s of view.services) for (const p of s.ports) {
      if (isIngress(p)) add(protoName(p.protocol), p.publishedPort, `${protoName(p.protocol)} dport ${p.publishedPort} dnat to ${ingressSandboxIp}:${p.publishedPort}`);
    }
  }
  const sorted = [...local].sort((a, b) => (a.taskId < b.taskId ? -1 : a.taskId > b.taskId ? 1 : 0));
  const viewPorts = new Map(view.services.map((s) => [s.serviceId, s.ports] as const));
  for (const t of sorted) {
    for (const p of viewPorts.get(t.serviceId) ?? t.ports) {
      if (p.publishMode !== PublishMode.PUBLISH_MODE_HOST || p.publishedPort <= 0) continue;
      const proto = protoName(p.protocol);
      add(proto, p.publishedPort, `${proto} dport ${p.publishedPort} dnat to ${t.gatewayIp}:${p.targetPort || p.publishedPort}`);
    }
  }
  return rules;
}

export function planIngressRules(view: NetworkView, ingressNetworkId: string): string[] {
  const rules: string[] = [];
  const taken = new Set<string>();
  for (const s of view.services) for (const p of s.ports) {
    if (!isIngress(p)) continue;
    const proto = protoName(p.protocol);
    const key = `${proto}/${p.publishedPort}`;
    if (taken.has(key)) continue;
    taken.add(key);
    const dnat = dnatSpread(activeBackends(view, s.serviceId, ingressNetworkId), p.targetPort || p.publishedPort);
    if (dnat) rules.push(`${proto} dport ${p.publishedPort} ${dnat}`);
  }
  return rules;
}

/** The ingress sandbox's whole table. */
export function renderIngressTable(rules: readonly string[]): string {
  return replaceTableScript(INGRESS_TABLE, [
    ...chainBlock('prerouting', [`iifname "${INGRESS_SANDBOX_GW_LINK}" jump ${PORTS_CHAIN}`], 'type nat hook prerouting priority -100; policy accept;'),
    ...chainBlock(PORTS_CHAIN, rules),
    ...chainBlock('postrouting', [`oifname "${SANDBOX_BRIDGE}" masquerade`], 'type nat hook postrouting priority 100; policy accept;'),
  ]);
}
