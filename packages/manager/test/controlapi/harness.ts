// A control API over a real Store on the in-memory LocalProposer, with seeding helpers
// and an assertion that a refused call wrote nothing.
import * as assert from 'node:assert/strict';
import {
  Cluster,
  Network,
  Node,
  NodeRole,
  NodeState,
  ServiceSpec,
  Task,
  TaskState,
  silentLogger,
} from '@tswarm/api';
import { LocalProposer, Store } from '@tswarm/store';
import { StaticRaftMembers, controlRpcs, type ControlApiDeps, type ControlRpcs } from '../../src/controlapi/index.js';
import { StatusError } from '../../src/controlapi/errors.js';
import { CLUSTER_TABLES, clusterTable, networksTable, nodesTable, tasksTable } from '../../src/tables.js';

export const T0 = 1_700_000_000_000;

/** The partial shapes ts-proto's fromPartial accepts. */
export type SpecInput = Parameters<typeof ServiceSpec.fromPartial>[0];
type TaskInput = Parameters<typeof Task.fromPartial>[0];

export interface Harness {
  store: Store;
  raft: StaticRaftMembers;
  api: ControlRpcs;
  deps: ControlApiDeps;
  /** A second API instance on the same store, as another manager would be. */
  other(): ControlRpcs;
  clock: { now: number };
}

/** IDs 25 base-36 chars: `prefix` then a counter, so tests can aim at prefixes. */
export function idGen(prefix = 'x'): () => string {
  let n = 0;
  return () => `${prefix}${(++n).toString(36).padStart(25 - prefix.length, '0')}`;
}

export function harness(): Harness {
  const proposer = new LocalProposer();
  let req = 0;
  const store = new Store({ proposer, tables: CLUSTER_TABLES, newRequestId: () => `r${++req}` });
  proposer.attach(store);
  const raft = new StaticRaftMembers([{ id: 'm1', addr: '10.0.0.1:2377', reachable: true }], 'm1');
  const clock = { now: T0 };
  const deps: ControlApiDeps = {
    store,
    nowMs: () => clock.now,
    newId: idGen('s'),
    localNodeId: () => 'm1',
    raft,
    logger: silentLogger,
    randomBytes: (n) => new Uint8Array(n).fill(7),
  };
  return { store, raft, api: controlRpcs(deps), deps, other: () => controlRpcs({ ...deps, newId: idGen('o') }), clock };
}

/** Rejects with a StatusError of `code` whose details match; and nothing was written. */
export async function refused(h: Harness, p: Promise<unknown>, code: number, details: RegExp | string): Promise<StatusError> {
  const before = h.store.version;
  const err = await p.then(
    () => assert.fail(`expected the call to be refused with ${details}`),
    (e: unknown) => e,
  );
  assert.ok(err instanceof StatusError, `expected a StatusError, got ${String(err)}`);
  assert.equal(err.code, code, `code for "${err.details}"`);
  if (typeof details === 'string') assert.equal(err.details, details);
  else assert.match(err.details, details);
  assert.equal(h.store.version, before, 'a refused call must write nothing');
  return err;
}

export function spec(p: SpecInput = {}): ServiceSpec {
  return ServiceSpec.fromPartial({
    name: 'web',
    task: { container: { image: 'nginx:1.25' } },
    mode: { $case: 'replicated', value: { replicas: 3 } },
    ...p,
  });
}

export interface NodeSeed {
  id: string;
  hostname?: string;
  manager?: boolean;
  desiredManager?: boolean;
  state?: NodeState;
}

export async function addNode(h: Harness, n: NodeSeed): Promise<Node> {
  const manager = n.manager ?? false;
  const node = Node.fromPartial({
    id: n.id,
    meta: { createdAtMs: T0, updatedAtMs: T0 },
    spec: { desiredRole: (n.desiredManager ?? manager) ? NodeRole.NODE_ROLE_MANAGER : NodeRole.NODE_ROLE_WORKER },
    description: { hostname: n.hostname ?? n.id },
    status: { state: n.state ?? NodeState.NODE_STATE_READY },
    role: manager ? NodeRole.NODE_ROLE_MANAGER : NodeRole.NODE_ROLE_WORKER,
  });
  await h.store.update((tx) => tx.create(nodesTable, node));
  return node;
}

export async function addTask(h: Harness, t: TaskInput & { id: string }): Promise<Task> {
  const task = Task.fromPartial({
    desiredState: TaskState.TASK_STATE_RUNNING,
    status: { state: TaskState.TASK_STATE_RUNNING },
    meta: { createdAtMs: T0 },
    ...t,
  });
  await h.store.update((tx) => tx.create(tasksTable, task));
  return task;
}

export async function addNetwork(h: Harness, id: string, name: string, ingress = false): Promise<void> {
  await h.store.update((tx) => tx.create(networksTable, Network.fromPartial({ id, spec: { name, driver: 'overlay', ingress } })));
}

// A well-formed v1 token: 50-char digest, 25-char secret (values are arbitrary base 36).
export const DIGEST = '1'.repeat(50);
export const WORKER_TOKEN = `SWMTKN-1-${DIGEST}-${'w'.repeat(25)}`;
export const MANAGER_TOKEN = `SWMTKN-1-${DIGEST}-${'m'.repeat(25)}`;

export async function addCluster(h: Harness): Promise<Cluster> {
  const c = Cluster.fromPartial({
    id: 'c1',
    spec: { name: 'default' },
    rootCa: { caCertPem: 'CERT', caKeyPem: 'SECRET KEY', digest: 'd' },
    joinTokens: { worker: WORKER_TOKEN, manager: MANAGER_TOKEN },
  });
  await h.store.update((tx) => tx.create(clusterTable, c));
  return c;
}
