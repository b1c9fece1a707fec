// Small builders for scheduler and orchestrator tests, and a stand-in for the event loop
// that applies a reconciler's actions to a task list.
import {
  Node,
  NodeAvailability,
  NodeRole,
  NodeState,
  RestartPolicy,
  Service,
  ServiceSpec,
  Task,
  TaskState,
  UpdateConfig,
} from '@tswarm/api';

export const GiB = 1024 ** 3;
export const CPU = 1e9;

export interface NodeOpts {
  hostname?: string;
  state?: NodeState;
  availability?: NodeAvailability;
  role?: NodeRole;
  labels?: Record<string, string>;
  memGiB?: number;
  cpus?: number;
}

export function node(id: string, o: NodeOpts = {}): Node {
  return Node.fromPartial({
    id,
    spec: { availability: o.availability ?? NodeAvailability.NODE_AVAILABILITY_ACTIVE, labels: o.labels ?? {} },
    description: {
      hostname: o.hostname ?? `host-${id}`,
      resources: { memoryBytes: (o.memGiB ?? 16) * GiB, nanoCpus: (o.cpus ?? 8) * CPU },
    },
    status: { state: o.state ?? NodeState.NODE_STATE_READY },
    role: o.role ?? NodeRole.NODE_ROLE_WORKER,
  });
}

export interface ServiceOpts {
  replicas?: number;
  global?: boolean;
  image?: string;
  restart?: Partial<RestartPolicy>;
  update?: Partial<UpdateConfig>;
  rollback?: Partial<UpdateConfig>;
  constraints?: string[];
  memGiB?: number;
  cpus?: number;
  specVersion?: number;
}

export function serviceSpec(name: string, o: ServiceOpts = {}): ServiceSpec {
  return ServiceSpec.fromPartial({
    name,
    task: {
      container: { image: o.image ?? 'nginx:1' },
      restart: o.restart,
      placement: { constraints: o.constraints ?? [] },
      resources: { reservations: { memoryBytes: (o.memGiB ?? 0) * GiB, nanoCpus: (o.cpus ?? 0) * CPU } },
    },
    mode: o.global ? { $case: 'global', value: {} } : { $case: 'replicated', value: { replicas: o.replicas ?? 1 } },
    update: o.update ? UpdateConfig.fromPartial(o.update) : undefined,
    rollback: o.rollback ? UpdateConfig.fromPartial(o.rollback) : undefined,
  });
}

export function service(id: string, o: ServiceOpts = {}): Service {
  return Service.fromPartial({ id, spec: serviceSpec(id, o), specVersion: o.specVersion ?? 1 });
}

/** The service with a new spec (as the control API writes it: previous kept, version + 1). */
export function updated(s: Service, o: ServiceOpts): Service {
  return { ...s, spec: serviceSpec(s.spec!.name, o), previousSpec: s.spec, specVersion: s.specVersion + 1 };
}

export function withReplicas(s: Service, replicas: number): Service {
  return { ...s, spec: { ...s.spec!, mode: { $case: 'replicated', value: { replicas } } } };
}

/** IDs t1, t2, ... */
export function ids(prefix = 't'): () => string {
  let n = 0;
  return () => `${prefix}${++n}`;
}

/** A task as the scheduler sees it, from a few fields. */
export function task(p: Partial<Task> & { id: string; state?: TaskState; at?: number }): Task {
  const { state, at, ...rest } = p;
  return Task.fromPartial({
    serviceId: 'web',
    desiredState: TaskState.TASK_STATE_RUNNING,
    ...rest,
    status: { state: state ?? TaskState.TASK_STATE_RUNNING, timestampMs: at ?? 0 },
  } as Task);
}

/** What the event loop does with a reconciler's decisions. */
export function apply(tasks: readonly Task[], a: { create?: Task[]; update?: Task[]; delete?: Task[] }): Task[] {
  const byId = new Map(tasks.map((t) => [t.id, t]));
  for (const t of a.update ?? []) byId.set(t.id, t);
  for (const t of a.delete ?? []) byId.delete(t.id);
  for (const t of a.create ?? []) byId.set(t.id, t);
  return [...byId.values()];
}

/** What an agent (or the scheduler) reports: the task moves to `state` at `atMs`, optionally on a node. */
export function report(tasks: readonly Task[], id: string, state: TaskState, atMs: number, nodeId?: string): Task[] {
  return tasks.map((t) =>
    t.id === id
      ? { ...t, nodeId: nodeId ?? t.nodeId, status: { ...t.status!, state, timestampMs: atMs } }
      : t,
  );
}

/** Every task meant to run is RUNNING on `nodeId` as of `atMs`; ones told to stop are SHUTDOWN. */
export function settle(tasks: readonly Task[], atMs: number, nodeId = 'n1'): Task[] {
  return tasks.map((t) => {
    const s = t.status!.state;
    if (s > TaskState.TASK_STATE_RUNNING) return t;
    if (t.desiredState === TaskState.TASK_STATE_RUNNING && s !== TaskState.TASK_STATE_RUNNING) {
      return { ...t, nodeId: t.nodeId || nodeId, status: { ...t.status!, state: TaskState.TASK_STATE_RUNNING, timestampMs: atMs } };
    }
    if (t.desiredState > TaskState.TASK_STATE_RUNNING) {
      return { ...t, status: { ...t.status!, state: TaskState.TASK_STATE_SHUTDOWN, timestampMs: atMs } };
    }
    return t;
  });
}

export const meant = (tasks: readonly Task[]): Task[] =>
  tasks.filter((t) => t.desiredState <= TaskState.TASK_STATE_RUNNING);

export const running = (tasks: readonly Task[]): Task[] =>
  meant(tasks).filter((t) => t.status?.state === TaskState.TASK_STATE_RUNNING);
