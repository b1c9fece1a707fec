// A dispatcher served on 127.0.0.1:0 over a real Store (LocalProposer), with a fake
// identity (the x-test-node-id metadata header stands in for the mTLS certificate) and
// helpers that play the agent.
import * as grpc from '@grpc/grpc-js';
import type { ClientReadableStream } from '@grpc/grpc-js';
import {
  Cluster,
  DispatcherClient,
  DispatcherService,
  Node,
  NodeDescription,
  NodeState,
  Task,
  TaskState,
  seededRng,
  silentLogger,
  type NodeSpec,
  type HeartbeatRequest,
  type HeartbeatResponse,
  type TaskStatusUpdate,
  type UpdateTaskStatusRequest,
  type UpdateTaskStatusResponse,
} from '@tswarm/api';
import { StatusError } from '@tswarm/ca';
import { LocalProposer, Store } from '@tswarm/store';
import { CLUSTER_TABLES, Dispatcher, clusterTable, nodesTable, systemTimers, tasksTable, type DispatcherConfig, type ManagerPeer } from '../../src/index.js';

export const NODE_HEADER = 'x-test-node-id';

export function fakeIdentify(call: unknown): string {
  const id = (call as { metadata: grpc.Metadata }).metadata.get(NODE_HEADER)[0];
  if (typeof id !== 'string' || !id) throw new StatusError(grpc.status.UNAUTHENTICATED, 'no node certificate (test header missing)');
  return id;
}

export function localStore(): { store: Store; proposer: InterposingProposer } {
  const proposer = new InterposingProposer();
  let n = 0;
  const store = new Store({ proposer, tables: [...CLUSTER_TABLES], newRequestId: () => `req-${++n}` });
  proposer.attach(store);
  return { store, proposer };
}

/** The shared seeded PRNG (mulberry32, in @tswarm/api). */
export { seededRng };

/**
 * Runs `before` (once) ahead of the next proposal, so a test can commit a competing write
 * between a transaction's reads and its entry — a version conflict, as under real Raft.
 */
export class InterposingProposer extends LocalProposer {
  before: (() => Promise<void>) | undefined;
  proposals = 0;

  override async propose(data: Uint8Array): Promise<number> {
    this.proposals++;
    const b = this.before;
    this.before = undefined;
    if (b) await b();
    return super.propose(data);
  }
}

export interface Harness {
  store: Store;
  proposer: InterposingProposer;
  dispatcher: Dispatcher;
  managers: ManagerPeer[];
  client: DispatcherClient;
  /** Metadata identifying as `nodeId`. */
  as(nodeId: string): grpc.Metadata;
  close(): Promise<void>;
}

export interface HarnessOptions {
  config?: DispatcherConfig;
  /** Store contents before the dispatcher starts. */
  seed?: (store: Store) => Promise<void>;
  start?: boolean;
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const { store, proposer } = localStore();
  if (opts.seed) await opts.seed(store);
  const managers: ManagerPeer[] = [{ nodeId: 'mgr-1', addr: '10.0.0.1:2377' }];
  let sessions = 0;
  const dispatcher = new Dispatcher({
    store,
    ...systemTimers,
    rng: seededRng(7),
    newSessionId: () => `session-${++sessions}`,
    config: opts.config ?? { heartbeatPeriodMs: 1000, heartbeatMisses: 3 },
    managers: () => managers,
    logger: silentLogger,
    identify: fakeIdentify,
    leaderAddr: () => '10.0.0.2:2377',
  });
  if (opts.start !== false) dispatcher.start();
  const server = new grpc.Server();
  server.addService(DispatcherService, dispatcher.service());
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const client = new DispatcherClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return {
    store,
    proposer,
    dispatcher,
    managers,
    client,
    as(nodeId) {
      const md = new grpc.Metadata();
      md.set(NODE_HEADER, nodeId);
      return md;
    },
    async close() {
      dispatcher.stop();
      client.close();
      await new Promise<void>((r) => server.tryShutdown(() => r()));
      store.close();
    },
  };
}

/** Collects a server stream's messages and its final status. */
export class Reader<T> {
  readonly msgs: T[] = [];
  error: grpc.ServiceError | undefined;
  done = false;

  constructor(readonly stream: ClientReadableStream<T>) {
    stream.on('data', (m: T) => this.msgs.push(m));
    stream.on('error', (e: grpc.ServiceError) => {
      this.error = e;
      this.done = true;
    });
    stream.on('end', () => (this.done = true));
  }

  /** Waits until `n` messages arrived and returns the n-th (1-based). */
  async nth(n: number, timeoutMs = 3000): Promise<T> {
    await waitFor(() => this.msgs.length >= n, timeoutMs, `message ${n}`);
    return this.msgs[n - 1]!;
  }

  async ended(timeoutMs = 3000): Promise<grpc.ServiceError | undefined> {
    await waitFor(() => this.done, timeoutMs, 'stream end');
    return this.error;
  }
}

export async function waitFor(cond: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Promisified unary call. */
export function unary<Req, Res>(
  fn: (req: Req, md: grpc.Metadata, cb: (err: grpc.ServiceError | null, res?: Res) => void) => unknown,
  req: Req,
  md: grpc.Metadata,
): Promise<Res> {
  return new Promise((resolve, reject) => fn(req, md, (err, res) => (err ? reject(err) : resolve(res!))));
}

// ---- store fixtures ----

export async function putCluster(store: Store, heartbeatPeriodMs: number, heartbeatMisses: number): Promise<void> {
  await store.update((tx) =>
    tx.create(clusterTable, Cluster.create({ id: 'cluster-1', spec: { name: 'default', heartbeatPeriodMs, heartbeatMisses } })),
  );
}

export async function putNode(store: Store, id: string, state = NodeState.NODE_STATE_UNKNOWN, spec: Partial<NodeSpec> = {}): Promise<void> {
  await store.update((tx) => tx.create(nodesTable, Node.create({ id, spec, status: { state, message: '', addr: '' } })));
}

export function nodeOf(store: Store, id: string): Node | undefined {
  return store.view((tx) => tx.get(nodesTable, id)?.object);
}

export function taskOf(store: Store, id: string): Task | undefined {
  return store.view((tx) => tx.get(tasksTable, id)?.object);
}

export function newTask(id: string, nodeId: string, state = TaskState.TASK_STATE_ASSIGNED, image = 'nginx:1'): Task {
  return Task.create({
    id,
    serviceId: 'svc-1',
    serviceName: 'web',
    slot: 1,
    nodeId,
    spec: { container: { image } },
    desiredState: TaskState.TASK_STATE_RUNNING,
    status: { state, message: 'assigned', timestampMs: 1 },
  });
}

export async function putTasks(store: Store, ...tasks: Task[]): Promise<void> {
  await store.update((tx) => {
    for (const t of tasks) tx.create(tasksTable, t);
  });
}

/** Rewrites a task through `fn` as the orchestrator or scheduler would. */
export async function editTask(store: Store, id: string, fn: (t: Task) => Task): Promise<void> {
  await store.update((tx) => {
    const row = tx.get(tasksTable, id)!;
    tx.update(tasksTable, fn(structuredClone(row.object) as Task), row.version);
  });
}

export function beat(h: Harness, nodeId: string, sessionId: string): Promise<HeartbeatResponse> {
  return unary<HeartbeatRequest, HeartbeatResponse>((r, md, cb) => h.client.heartbeat(r, md, cb), { sessionId }, h.as(nodeId));
}

export function reportStatus(h: Harness, nodeId: string, sessionId: string, updates: TaskStatusUpdate[]): Promise<UpdateTaskStatusResponse> {
  return unary<UpdateTaskStatusRequest, UpdateTaskStatusResponse>((r, md, cb) => h.client.updateTaskStatus(r, md, cb), { sessionId, updates }, h.as(nodeId));
}

/** Opens a session as `nodeId` and waits for its first SessionMessage. */
export async function openSession(h: Harness, nodeId: string, hostname = nodeId) {
  const reader = new Reader(h.client.session({ description: NodeDescription.create({ hostname, os: 'linux', architecture: 'x86_64', engineVersion: '26' }), sessionId: '' }, h.as(nodeId)));
  const first = await reader.nth(1);
  return { reader, sessionId: first.sessionId, first };
}
