import { Logger, Network, NetworkAttachment, Node, Service, Task, TaskState } from '@tswarm/api';
import { AddressBook, allocateTask, awaitingAddresses, ingressNetworkOf, planNodeIngress, planServiceVips } from './allocator/plan.js';
import { Store } from '@tswarm/store';
import { ReconcileDriver } from './reconcile-driver.js';
import { Actions, planUpdate, reconcileGlobal, reconcileReplicated, rollbackService, UpdateProgress } from './orchestrator/index.js';
import { schedule } from './scheduler/index.js';
import { clusterTable, networksTable, nodesTable, servicesTable, tasksTable } from './tables.js';
import type { LeaderRole } from './manager.js';

/** Tasks per store transaction; the store splits beyond its own bound too. */
const TASK_WRITE_BATCH = 200;
/** Delayed restarts and rolling-update waits are checked at least this often. */
const WAKE_CHECK_MS = 250;

type TaskChange = { kind: 'create'; task: Task } | { kind: 'update'; id: string; mutate: (t: Task) => Task | undefined } | { kind: 'delete'; id: string };

/**
 * The leader's orchestration: replicated and global reconcilers, rolling updates and
 * the scheduler, run over the store's current state whenever services, tasks or nodes
 * change. Each write re-reads the task it changes inside its transaction and applies
 * only its own change, so a concurrent status report from the dispatcher never turns
 * into a lost update or a retry storm.
 */
export class OrchestrationLoop implements LeaderRole {
  private wakeAtMs = Infinity;
  private readonly updates = new Map<string, UpdateProgress | undefined>();
  private readonly driver: ReconcileDriver;

  constructor(private readonly d: { store: Store; nowMs(): number; newId(): string; logger: Logger }) {
    this.driver = new ReconcileDriver({
      store: d.store,
      tables: [servicesTable, tasksTable, nodesTable, networksTable],
      periodMs: WAKE_CHECK_MS,
      due: () => this.d.nowMs() >= this.wakeAtMs,
      pass: () => this.pass(),
      logger: d.logger,
      name: 'orchestration',
    });
  }

  start(): void {
    this.driver.start();
  }

  stop(): void {
    this.driver.stop();
    this.updates.clear();
  }

  /** One allocate + reconcile + schedule round over a consistent view of the store. */
  private async pass(): Promise<void> {
    const now = this.d.nowMs();
    const { services, tasks, nodes, networks, historyLimit } = this.d.store.view((tx) => ({
      services: tx.list(servicesTable).map((r) => r.object),
      tasks: tx.list(tasksTable).map((r) => r.object),
      nodes: tx.list(nodesTable).map((r) => r.object),
      networks: tx.list(networksTable).map((r) => r.object),
      historyLimit: Number(tx.list(clusterTable)[0]?.object.spec?.taskHistoryLimit ?? 5),
    }));
    const changes: TaskChange[] = [];
    const serviceWrites: Array<(s: Service) => Service> = [];
    this.wakeAtMs = Infinity;
    // Addresses first (DESIGN step 4): VIPs and node ingress addresses, then every task
    // that needs addresses — those waiting in NEW and those this pass creates.
    const book = AddressBook.from({ networks, services, tasks, nodes });
    const ingress = ingressNetworkOf(networks);
    const nodeWrites = this.planAddresses(book, services, nodes, ingress, serviceWrites);
    const servicesById = new Map(services.map((s) => [s.id, s]));
    for (const t of tasks) {
      if (!awaitingAddresses(t)) continue;
      const next = allocateTask(book, t, servicesById.get(t.serviceId), ingress, now);
      if (next) changes.push({ kind: 'update', id: t.id, mutate: (cur) => (awaitingAddresses(cur) ? { ...cur, networks: next.networks, status: next.status } : undefined) });
    }
    const byService = groupBy(tasks, (t) => t.serviceId);
    for (const s of services) {
      const own = byService.get(s.id) ?? [];
      const acts = s.spec?.mode?.$case === 'global'
        ? reconcileGlobal(s, own, nodes, now, this.d.newId, { historyLimit })
        : reconcileReplicated(s, own, nodes, now, this.d.newId, { historyLimit });
      this.collect(acts, changes, book, s, ingress, now);
      for (const d of acts.delayed) this.wakeAtMs = Math.min(this.wakeAtMs, d.notBeforeMs);
      const step = planUpdate({ service: s, tasks: own, nodes, nowMs: now, progress: this.updates.get(s.id), newId: this.d.newId });
      this.updates.set(s.id, step.progress);
      for (const t of step.create) changes.push({ kind: 'create', task: allocateTask(book, t, s, ingress, now) ?? t });
      for (const t of step.update) changes.push({ kind: 'update', id: t.id, mutate: (cur) => ({ ...cur, desiredState: t.desiredState }) });
      if (step.wakeAtMs !== undefined) this.wakeAtMs = Math.min(this.wakeAtMs, step.wakeAtMs);
      if (step.rollback !== undefined) {
        const message = step.rollback;
        serviceWrites.push((cur) => (cur.id === s.id ? rollbackService(cur, now, message) : cur));
      } else if (step.updateStatus) {
        const st = step.updateStatus;
        serviceWrites.push((cur) => (cur.id === s.id ? { ...cur, updateStatus: st } : cur));
      }
    }
    // Tasks of removed services: stop them, and forget them once they stopped.
    const live = new Set(services.map((s) => s.id));
    for (const t of tasks) {
      if (live.has(t.serviceId)) continue;
      if (t.desiredState < TaskState.TASK_STATE_REMOVE) {
        changes.push({ kind: 'update', id: t.id, mutate: (cur) => ({ ...cur, desiredState: TaskState.TASK_STATE_REMOVE }) });
      } else if (!t.nodeId || (t.status?.state ?? 0) >= TaskState.TASK_STATE_COMPLETE || nodeGone(nodes, t.nodeId)) {
        changes.push({ kind: 'delete', id: t.id });
      }
    }
    this.placePending(tasks, nodes, changes, now);
    await this.write(changes, serviceWrites);
    if (nodeWrites.size > 0) await this.writeNodes(nodeWrites);
  }

  /** Service VIPs and node ingress addresses to write; records what it allocates in `book`. */
  private planAddresses(book: AddressBook, services: Service[], nodes: Node[], ingress: Network | undefined, serviceWrites: Array<(s: Service) => Service>): Map<string, NetworkAttachment[]> {
    const warn = (msg: string) => this.d.logger.warn(msg);
    for (const s of services) {
      const vips = planServiceVips(book, s, warn);
      if (vips) serviceWrites.push((cur) => (cur.id === s.id ? { ...cur, endpoint: { spec: cur.spec?.endpoint, ports: [], ...cur.endpoint, virtualIps: vips } } : cur));
    }
    const nodeWrites = new Map<string, NetworkAttachment[]>();
    for (const n of nodes) {
      const attachments = planNodeIngress(book, n, ingress);
      if (attachments) nodeWrites.set(n.id, attachments);
    }
    return nodeWrites;
  }

  private collect(a: Actions, out: TaskChange[], book?: AddressBook, service?: Service, ingress?: Network, now = 0): void {
    for (const t of a.create) {
      // A new task takes its addresses now, so it reaches the scheduler in one write.
      const allocated = book ? allocateTask(book, t, service, ingress, now) : undefined;
      out.push({ kind: 'create', task: allocated ?? t });
    }
    for (const t of a.update) out.push({ kind: 'update', id: t.id, mutate: (cur) => ({ ...cur, desiredState: t.desiredState }) });
    for (const t of a.delete) out.push({ kind: 'delete', id: t.id });
  }

  /** Pending tasks (desired RUNNING, no node yet, or a global task's preset node) get a node or a reason. */
  private placePending(tasks: Task[], nodes: Node[], out: TaskChange[], now: number): void {
    const pending = tasks.filter((t) => t.status?.state === TaskState.TASK_STATE_PENDING && t.desiredState === TaskState.TASK_STATE_RUNNING);
    if (pending.length === 0) return;
    const result = schedule({ nodes, tasks, pending }, now);
    for (const a of result.assignments) {
      out.push({
        kind: 'update', id: a.taskId,
        mutate: (cur) => (cur.status?.state === TaskState.TASK_STATE_PENDING
          ? { ...cur, nodeId: a.nodeId, status: { ...cur.status, state: TaskState.TASK_STATE_ASSIGNED, message: 'scheduler assigned task to node', timestampMs: now } }
          : undefined),
      });
    }
    for (const u of result.unschedulable) {
      out.push({
        kind: 'update', id: u.taskId,
        mutate: (cur) => (cur.status?.state === TaskState.TASK_STATE_PENDING && cur.status.err !== u.message
          ? { ...cur, status: { ...cur.status!, err: u.message, timestampMs: now } }
          : undefined),
      });
    }
  }

  /** Node attachments, each written only if the node still has none for that network. */
  private async writeNodes(writes: Map<string, NetworkAttachment[]>): Promise<void> {
    await this.d.store.update((tx) => {
      for (const [id, attachments] of writes) {
        const row = tx.get(nodesTable, id);
        if (!row) continue;
        const fresh = attachments.filter((a) => !row.object.attachments.some((b) => b.networkId === a.networkId));
        if (fresh.length === 0) continue;
        tx.update(nodesTable, { ...row.object, attachments: [...row.object.attachments, ...fresh] }, row.version);
      }
    });
  }

  private async write(changes: TaskChange[], serviceWrites: Array<(s: Service) => Service>): Promise<void> {
    if (changes.length === 0 && serviceWrites.length === 0) return;
    const now = this.d.nowMs();
    for (let i = 0; i < changes.length; i += TASK_WRITE_BATCH) {
      const chunk = changes.slice(i, i + TASK_WRITE_BATCH);
      await this.d.store.update((tx) => {
        for (const c of chunk) {
          if (c.kind === 'create') {
            tx.create(tasksTable, c.task);
            continue;
          }
          const row = tx.get(tasksTable, c.id);
          if (!row) continue;
          if (c.kind === 'delete') {
            tx.delete(tasksTable, c.id, row.version);
            continue;
          }
          const next = c.mutate(row.object);
          if (next) tx.update(tasksTable, { ...next, meta: { version: 0, createdAtMs: now, ...next.meta, updatedAtMs: now } }, row.version);
        }
      });
    }
    if (serviceWrites.length) {
      await this.d.store.update((tx) => {
        for (const row of tx.list(servicesTable)) {
          let s = row.object;
          for (const w of serviceWrites) s = w(s);
          if (s !== row.object) tx.update(servicesTable, s, row.version);
        }
      });
    }
  }
}

function groupBy<T>(items: readonly T[], key: (t: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const i of items) {
    const k = key(i);
    const list = m.get(k);
    if (list) list.push(i);
    else m.set(k, [i]);
  }
  return m;
}

function nodeGone(nodes: Node[], id: string): boolean {
  return !nodes.some((n) => n.id === id);
}
