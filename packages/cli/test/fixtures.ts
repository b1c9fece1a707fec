import {
  EndpointMode, Node, NodeAvailability, NodeRole, NodeState, PortProtocol, PublishMode, Service, ServiceSpec, Task, TaskState,
} from '@tswarm/api';

/** Small builders for wire objects, filling what a test does not care about. */

export function spec(name: string, image: string, mode: ServiceSpec['mode'], ports: Array<[number, number, PublishMode?]> = []): ServiceSpec {
  return {
    name, labels: {},
    task: {
      container: { image, command: [], args: [], env: [], labels: {}, stopGracePeriodMs: 0, stopSignal: '', hostname: '' },
      resources: undefined, restart: undefined, placement: { constraints: [] }, networks: [], forceUpdate: 0,
    },
    mode, update: undefined, rollback: undefined,
    endpoint: { mode: EndpointMode.ENDPOINT_MODE_VIP, ports: ports.map(([p, t, m]) => ({ name: '', protocol: PortProtocol.PORT_PROTOCOL_TCP, targetPort: t, publishedPort: p, publishMode: m ?? PublishMode.PUBLISH_MODE_INGRESS })) },
  };
}

export function service(id: string, s: ServiceSpec, version = 7): Service {
  return { id, meta: { version, createdAtMs: 0, updatedAtMs: 0 }, spec: s, previousSpec: undefined, endpoint: undefined, updateStatus: undefined, specVersion: 1 };
}

export function task(id: string, serviceId: string, slot: number, nodeId: string, state: TaskState, o: Partial<{ desired: TaskState; atMs: number; createdMs: number; err: string; message: string; image: string; restartCount: number }> = {}): Task {
  return {
    id, meta: { version: 1, createdAtMs: o.createdMs ?? 0, updatedAtMs: 0 }, serviceId, serviceName: '', slot, nodeId,
    spec: { container: { image: o.image ?? 'nginx:1.25', command: [], args: [], env: [], labels: {}, stopGracePeriodMs: 0, stopSignal: '', hostname: '' }, resources: undefined, restart: undefined, placement: undefined, networks: [], forceUpdate: 0 },
    specVersion: 1, desiredState: o.desired ?? TaskState.TASK_STATE_RUNNING,
    status: { state, timestampMs: o.atMs ?? 0, message: o.message ?? '', err: o.err ?? '', container: undefined, receive: [] },
    networks: [], endpoint: undefined, restartCount: o.restartCount ?? 0,
  };
}

export function node(id: string, hostname: string, o: Partial<{ state: NodeState; availability: NodeAvailability; manager: 'leader' | 'reachable' | 'unreachable'; engine: string }> = {}): Node {
  const manager = o.manager !== undefined;
  return {
    id, meta: { version: 3, createdAtMs: 0, updatedAtMs: 0 },
    spec: { desiredRole: manager ? NodeRole.NODE_ROLE_MANAGER : NodeRole.NODE_ROLE_WORKER, availability: o.availability ?? NodeAvailability.NODE_AVAILABILITY_ACTIVE, labels: {} },
    description: { hostname, os: 'linux', architecture: 'x86_64', resources: { nanoCpus: 2e9, memoryBytes: 2 * 1024 ** 3 }, engineVersion: o.engine ?? '20.10.24' },
    status: { state: o.state ?? NodeState.NODE_STATE_READY, message: '', addr: '10.0.0.1' },
    managerStatus: manager ? { raftId: '1', addr: '10.0.0.1:2377', leader: o.manager === 'leader', reachability: o.manager === 'unreachable' ? 'unreachable' : 'reachable' } : undefined,
    attachments: [],
    role: manager ? NodeRole.NODE_ROLE_MANAGER : NodeRole.NODE_ROLE_WORKER,
  };
}
