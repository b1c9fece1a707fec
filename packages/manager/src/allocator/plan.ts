// What the leader's allocation step decides in one orchestration pass: VIPs for services,
// ingress addresses for nodes and addresses for tasks. Pure: objects and an AddressBook in,
// new field values out; the orchestration loop writes them (each re-checked against the
// object as stored when written).
import { TaskState, type Network, type NetworkAttachment, type Node, type Service, type Task, type VirtualIP } from '@tswarm/api';
import { AddressBook, allocateTaskNetworks, usesIngress, wantsVips } from './addresses.js';

export const ALLOCATED_MESSAGE = 'pending task scheduling';
export const UNALLOCATED_MESSAGE = 'pending network address allocation';

export function ingressNetworkOf(networks: readonly Network[]): Network | undefined {
  return networks.find((n) => n.spec?.ingress);
}

/**
 * The service's VIPs as they should be: one per attached network in VIP mode (an existing
 * one kept, so a VIP never moves under its clients), none in dnsrr mode. Undefined when
 * nothing changes. A network with no address left gets no VIP this pass and is retried on
 * the next; DNS answers for the service on that network wait until it has one.
 */
export function planServiceVips(book: AddressBook, s: Service, log: (msg: string) => void): VirtualIP[] | undefined {
  const current = s.endpoint?.virtualIps ?? [];
  const targets = wantsVips(s) ? (s.spec?.task?.networks ?? []).map((n) => n.target) : [];
  const next: VirtualIP[] = [];
  for (const networkId of targets) {
    const kept = current.find((v) => v.networkId === networkId);
    if (kept) {
      next.push(kept);
      continue;
    }
    const got = book.allocate(networkId);
    if (got.ok) next.push({ networkId, addr: got.cidr });
    else log(`service ${s.spec?.name}: ${got.message}`);
  }
  const same = next.length === current.length && next.every((v, i) => v.networkId === current[i]?.networkId && v.addr === current[i]?.addr);
  return same ? undefined : next;
}

/** The node's attachments with an ingress address added when it has none; undefined when unchanged. */
export function planNodeIngress(book: AddressBook, node: Node, ingress: Network | undefined): NetworkAttachment[] | undefined {
  if (!ingress || node.attachments.some((a) => a.networkId === ingress.id)) return undefined;
  const got = book.allocate(ingress.id);
  if (!got.ok) return undefined; // the ingress network is full: the node's mesh waits; tasks say why
  return [...node.attachments, { networkId: ingress.id, addresses: [got.cidr], aliases: [], network: ingress }];
}

/**
 * A task that needs addresses, with them: PENDING (ready for the scheduler) when every
 * network had an address, NEW with the reason in `err` when one did not — never a silent
 * stall. Returns undefined when the task's stored state already says the same.
 */
export function allocateTask(book: AddressBook, task: Task, service: Service | undefined, ingress: Network | undefined, nowMs: number): Task | undefined {
  const ingressId = service && usesIngress(service) ? ingress?.id : undefined;
  const got = allocateTaskNetworks(book, task, { ingressId });
  if (got.ok) {
    return { ...task, networks: got.networks, status: { ...task.status!, state: TaskState.TASK_STATE_PENDING, message: ALLOCATED_MESSAGE, err: '', timestampMs: nowMs } };
  }
  if (task.status?.state === TaskState.TASK_STATE_NEW && task.status.err === got.message) return undefined;
  return { ...task, networks: [], status: { ...task.status!, state: TaskState.TASK_STATE_NEW, message: UNALLOCATED_MESSAGE, err: got.message, timestampMs: nowMs } };
}

/** Tasks waiting in NEW for addresses that are still meant to run. */
export function awaitingAddresses(t: Task): boolean {
  return t.status?.state === TaskState.TASK_STATE_NEW && t.desiredState === TaskState.TASK_STATE_RUNNING;
}

export { AddressBook };
