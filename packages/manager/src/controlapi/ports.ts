// Published ports across services: conflicts and dynamic allocation.
//
// The rules are Swarm's (swarmkit controlapi checkPortConflicts): an ingress port is
// published on every node, so it conflicts with any other service publishing the same
// port and protocol, in either mode. Host-mode ports only bind where a task runs, so
// several host-mode services may share one (the scheduler keeps their tasks apart) — but
// not with an ingress port, which holds the port everywhere.
//
// Pure: the caller passes the other services as read in its transaction.
import { PublishMode, type PortConfig, type Service, type ServiceSpec } from '@tswarm/api';
import { invalidArgument, resourceExhausted } from './errors.js';
import { protocolName } from './validate-spec.js';

/** Range for `--publish 80` without a published port (Docker's default dynamic range). */
export const DYNAMIC_PORT_MIN = 30000;
export const DYNAMIC_PORT_MAX = 32767;

const key = (port: number, p: PortConfig) => `${port}/${protocolName(p.protocol)}`;
const isIngress = (p: PortConfig) => p.publishMode === PublishMode.PUBLISH_MODE_INGRESS;

/**
 * The ports `spec` publishes, as Service.endpoint.ports: the spec's ports in order, with
 * every ingress port that asked for 0 given a port from the dynamic range. Throws
 * INVALID_ARGUMENT on a conflict with another service, RESOURCE_EXHAUSTED when the range
 * is full.
 *
 * `previous` is the service's current state on update: a dynamic port keeps the number
 * it was given as long as the same (target, protocol) still asks for one, so an unrelated
 * update never moves a published port under its users.
 *
 * Host-mode ports asking for 0 stay 0: the node's engine picks a free port when the task
 * starts, as Docker does.
 */
export function assignPublishedPorts(
  spec: ServiceSpec,
  others: readonly Service[],
  previous?: { spec: ServiceSpec | undefined; ports: readonly PortConfig[] },
): PortConfig[] {
  const ports = (spec.endpoint?.ports ?? []).map((p) => ({ ...p }));
  // Who holds what, among the other services.
  const anyMode = new Map<string, string>(); // "8080/tcp" → service name
  const ingress = new Map<string, string>();
  for (const s of others) {
    for (const p of s.endpoint?.ports ?? []) {
      if (p.publishedPort === 0) continue;
      const name = s.spec?.name ?? s.id;
      anyMode.set(key(p.publishedPort, p), name);
      if (isIngress(p)) ingress.set(key(p.publishedPort, p), name);
    }
  }
  // INVALID_ARGUMENT, as Swarm answers it: the request names a port the cluster cannot give.
  const conflict = (port: number, holder: string) =>
    invalidArgument(`port ${port} is already in use by service "${holder}"; publish on another port or remove that service first`);

  for (const p of ports) {
    if (p.publishedPort === 0) continue;
    const k = key(p.publishedPort, p);
    const holder = isIngress(p) ? anyMode.get(k) : ingress.get(k);
    if (holder !== undefined) throw conflict(p.publishedPort, holder);
  }

  // Dynamic ingress ports: reuse the previous number when still free, else the lowest free.
  const taken = new Set([...anyMode.keys(), ...ports.filter((p) => p.publishedPort !== 0).map((p) => key(p.publishedPort, p))]);
  const previousDynamic = dynamicAssignments(previous);
  for (const p of ports) {
    if (p.publishedPort !== 0 || !isIngress(p)) continue;
    const reuse = previousDynamic.get(`${p.targetPort}/${protocolName(p.protocol)}`)?.shift();
    let chosen = reuse !== undefined && !taken.has(key(reuse, p)) ? reuse : undefined;
    for (let port = DYNAMIC_PORT_MIN; chosen === undefined && port <= DYNAMIC_PORT_MAX; port++) {
      if (!taken.has(key(port, p))) chosen = port;
    }
    if (chosen === undefined) {
      throw resourceExhausted(
        `no free port left in ${DYNAMIC_PORT_MIN}-${DYNAMIC_PORT_MAX} to publish port ${p.targetPort}/${protocolName(p.protocol)}; give a published port explicitly`,
      );
    }
    p.publishedPort = chosen;
    taken.add(key(chosen, p));
  }
  return ports;
}

/** target/protocol → ports the previous state gave to its dynamic (published 0) ingress ports, in order. */
function dynamicAssignments(previous?: { spec: ServiceSpec | undefined; ports: readonly PortConfig[] }): Map<string, number[]> {
  const out = new Map<string, number[]>();
  const asked = previous?.spec?.endpoint?.ports ?? [];
  asked.forEach((p, i) => {
    const given = previous?.ports[i];
    if (p.publishedPort !== 0 || !isIngress(p) || !given || given.targetPort !== p.targetPort || given.publishedPort === 0) return;
    const k = `${p.targetPort}/${protocolName(p.protocol)}`;
    out.set(k, [...(out.get(k) ?? []), given.publishedPort]);
  });
  return out;
}
