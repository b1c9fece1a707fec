// What each node must know to program its data plane (dispatcher.proto NetworkView), derived
// from the store's objects alone. Pure: the publisher reads the objects and sends the views;
// `network inspect` uses the same endpoint list, so what users see is what nodes program.
import { TaskState, type Network, type NetworkEndpoint, type NetworkView, type Node, type NodeEndpoint, type Service, type ServiceEndpoint, type Task } from '@tswarm/api';
import { holdsAddresses, usesIngress } from '../allocator/addresses.js';
import { inAssignmentSet } from './assignments.js';

export interface NetState {
  networks: readonly Network[];
  services: readonly Service[];
  tasks: readonly Task[];
  nodes: readonly Node[];
  dataPathPort: number;
}

/** Swarm's task name (`<service>.<slot>.<task id>`, global: `<service>.<node id>.<task id>`), which DNS answers. */
export function taskName(t: Task): string {
  return `${t.serviceName}.${t.slot > 0 ? t.slot : t.nodeId}.${t.id}`;
}

/** The task is placed on a node and holds its addresses there (possibly not running yet). */
function placed(t: Task): boolean {
  return t.nodeId !== '' && (t.status?.state ?? 0) >= TaskState.TASK_STATE_ASSIGNED && holdsAddresses(t);
}

/** Running and meant to keep running: DNS answers it and load balancers send to it. */
export function isActive(t: Task): boolean {
  return t.status?.state === TaskState.TASK_STATE_RUNNING && t.desiredState === TaskState.TASK_STATE_RUNNING;
}

/** The VNI the task's node reported reaching its container directly on the network; 0 for none. */
function receiveVni(t: Task, networkId: string): number {
  return t.status?.receive?.find((r) => r.networkId === networkId)?.vni ?? 0;
}

/** Every placed task's endpoint on every network, grouped by network ID. */
export function endpointsByNetwork(tasks: readonly Task[]): Map<string, NetworkEndpoint[]> {
  const out = new Map<string, NetworkEndpoint[]>();
  for (const t of tasks) {
    if (!placed(t)) continue;
    for (const a of t.networks) {
      const addr = a.addresses[0];
      if (!addr) continue;
      const ep: NetworkEndpoint = {
        networkId: a.networkId, taskId: t.id, taskName: taskName(t), serviceId: t.serviceId,
        nodeId: t.nodeId, addr, aliases: [...a.aliases], active: isActive(t), vni: receiveVni(t, a.networkId),
      };
      const list = out.get(a.networkId);
      if (list) list.push(ep);
      else out.set(a.networkId, [ep]);
    }
  }
  for (const list of out.values()) list.sort((a, b) => (a.addr < b.addr ? -1 : a.addr > b.addr ? 1 : 0));
  return out;
}

/** Every node's underlay address and ingress address. */
export function nodeEndpoints(nodes: readonly Node[], ingressId: string | undefined): NodeEndpoint[] {
  return nodes
    .map((n) => ({
      nodeId: n.id,
      addr: n.status?.addr ?? '',
      ingressAddr: n.attachments.find((a) => a.networkId === ingressId)?.addresses[0] ?? '',
    }))
    .sort((a, b) => (a.nodeId < b.nodeId ? -1 : 1));
}

/**
 * The view of each node in `nodeIds`: the networks its assigned tasks are on (plus ingress
 * on every node while any service publishes through the routing mesh, since every node
 * answers a published port), all placed endpoints on them, the services with a VIP or an
 * endpoint there, and every node's addresses.
 */
export function buildNetworkViews(state: NetState, nodeIds: Iterable<string>): Map<string, NetworkView> {
  const byId = new Map(state.networks.map((n) => [n.id, n]));
  const ingress = state.networks.find((n) => n.spec?.ingress);
  const meshInUse = ingress !== undefined && state.services.some(usesIngress);
  const endpoints = endpointsByNetwork(state.tasks);
  const nodes = nodeEndpoints(state.nodes, ingress?.id);
  const services = state.services.map((s) => serviceEndpoint(s));

  const wanted = new Map<string, Set<string>>();
  for (const id of nodeIds) wanted.set(id, new Set(meshInUse ? [ingress.id] : []));
  for (const t of state.tasks) {
    const set = wanted.get(t.nodeId);
    if (!set || !inAssignmentSet(t) || !holdsAddresses(t)) continue;
    for (const a of t.networks) set.add(a.networkId);
  }

  const views = new Map<string, NetworkView>();
  for (const [nodeId, ids] of wanted) {
    const networks = [...ids].map((id) => byId.get(id)).filter((n): n is Network => n !== undefined).sort((a, b) => a.vni - b.vni);
    const eps = networks.flatMap((n) => endpoints.get(n.id) ?? []);
    const serviceIds = new Set(eps.map((e) => e.serviceId));
    const svc = services.filter((s) => serviceIds.has(s.serviceId) || s.virtualIps.some((v) => ids.has(v.networkId)));
    views.set(nodeId, { networks, endpoints: eps, services: svc, nodes, dataPathPort: state.dataPathPort });
  }
  return views;
}

function serviceEndpoint(s: Service): ServiceEndpoint {
  return {
    serviceId: s.id,
    name: s.spec?.name ?? '',
    mode: s.spec?.endpoint?.mode ?? 0,
    virtualIps: s.endpoint?.virtualIps ?? [],
    ports: s.endpoint?.ports ?? [],
  };
}

/** `network inspect`: the network's endpoints and the nodes that hold them. */
export function inspectEndpoints(state: Omit<NetState, 'dataPathPort'>, networkId: string): { endpoints: NetworkEndpoint[]; peers: NodeEndpoint[] } {
  const endpoints = endpointsByNetwork(state.tasks).get(networkId) ?? [];
  const ingress = state.networks.find((n) => n.spec?.ingress);
  const holders = new Set(endpoints.map((e) => e.nodeId));
  if (ingress?.id === networkId) for (const n of state.nodes) if (n.attachments.some((a) => a.networkId === networkId)) holders.add(n.id);
  const peers = nodeEndpoints(state.nodes, ingress?.id).filter((p) => holders.has(p.nodeId));
  return { endpoints, peers };
}

