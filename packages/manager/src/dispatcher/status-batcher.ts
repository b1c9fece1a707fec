// Every write the dispatcher makes — task status from agents, node READY/DOWN — goes
// through here and is committed in batches: a thousand agents reporting RUNNING after a
// service create become a handful of Raft entries, not a thousand.
//
// Promise per caller: updateTasks()/updateNode() resolve once the batch holding the write
// committed (or it turned out to be a no-op), and reject if it could not be committed.
// The RPC acknowledges only then, so an acknowledged status is never lost: an agent whose
// call failed keeps the report and sends it again (to this or the next leader).
import { flushDelayMs, Node, NodeRole, NodeState, TaskState, TaskStatus, type Logger, type NodeDescription } from '@tswarm/api';
import { AlreadyExistsError, BatchError, VersionConflictError, type Store, type WriteTx } from '@tswarm/store';
import { nodesTable, tasksTable } from '../tables.js';
import type { TimerHandle } from './contract.js';

/**
 * Flushes start at most once per period: one Raft entry per batch, not per task (STYLE 7).
 * The first write after a quiet period is flushed at once (with what the same turn queued), as
 * the agents' reporter sends it: a task's RUNNING is what its service's VIP rules wait for.
 */
export const STATUS_FLUSH_MS = 100;

/**
 * Pending writes that trigger a flush without waiting for the period: bounds memory
 * and the latency of a burst (swarmkit's maxBatchItems). store.batch() still cuts the
 * flush into transactions of MAX_ACTIONS_PER_TRANSACTION.
 */
export const MAX_PENDING_WRITES = 10_000;

/**
 * Attempts per flush. A version conflict means another writer (orchestrator, scheduler)
 * committed to one of our objects between our read and our entry; by then its entry is
 * applied here, so a re-run reads fresh state. Units that did commit re-run as no-ops.
 */
export const FLUSH_ATTEMPTS = 3;

/** What the dispatcher sets on a node. Later patches for one node override earlier ones. */
export interface NodePatch {
  state: NodeState;
  message: string;
  /** Address the node's session came from; kept as it was when absent. */
  addr?: string;
  description?: NodeDescription;
  /** Create the node when it is missing (normally the CA path creates it at join time). */
  createIfMissing?: boolean;
}

export interface StatusBatcherDeps {
  store: Store;
  nowMs(): number;
  setTimer(fn: () => void, ms: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
  logger: Logger;
}

interface Waiter {
  resolve(): void;
  reject(err: Error): void;
}

export class StatusBatcher {
  /** taskId → the newest status reported for it, and the node that reported it. */
  private tasks = new Map<string, { nodeId: string; status: TaskStatus }>();
  private nodes = new Map<string, NodePatch>();
  /** Callers whose writes are in `tasks`/`nodes` (not in the flush in flight). */
  private waiters: Waiter[] = [];
  private timer: TimerHandle | undefined;
  /** nowMs() when the last flush started. */
  private lastFlushAt = -Infinity;
  /** Invariant: at most one flush runs at a time, so batches commit in order. */
  private flushing = false;
  private stopped = true;

  constructor(private readonly deps: StatusBatcherDeps) {}

  get pendingWrites(): number {
    return this.tasks.size + this.nodes.size;
  }

  /**
   * Queues task statuses (already validated as belonging to `nodeId`). A status older than
   * one already pending for the same task is dropped here; one older than the store's is
   * dropped at flush. Either way the caller is acknowledged: "not backwards" is the rule.
   */
  updateTasks(nodeId: string, updates: ReadonlyArray<{ taskId: string; status: TaskStatus }>): Promise<void> {
    for (const u of updates) {
      const pending = this.tasks.get(u.taskId);
      if (pending && pending.status.state > u.status.state) continue;
      this.tasks.set(u.taskId, { nodeId, status: u.status });
    }
    return this.enqueue();
  }

  updateNode(nodeId: string, patch: NodePatch): Promise<void> {
    const prev = this.nodes.get(nodeId);
    this.nodes.set(nodeId, prev ? { ...prev, ...patch, createIfMissing: prev.createIfMissing || patch.createIfMissing } : patch);
    return this.enqueue();
  }

  /** Accepts writes again after stop() (a new leadership term). */
  start(): void {
    this.stopped = false;
  }

  /** Rejects queued callers (not the flush in flight) and refuses new writes until start(). */
  stop(err: Error): void {
    this.stopped = true;
    if (this.timer !== undefined) this.deps.clearTimer(this.timer);
    this.timer = undefined;
    this.tasks.clear();
    this.nodes.clear();
    for (const w of this.waiters.splice(0)) w.reject(err);
  }

  private enqueue(): Promise<void> {
    if (this.stopped) return Promise.reject(new Error('dispatcher stopped'));
    const p = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.schedule();
    return p;
  }

  private schedule(): void {
    if (this.flushing || this.stopped || this.pendingWrites === 0) return;
    if (this.pendingWrites >= MAX_PENDING_WRITES) {
      if (this.timer !== undefined) this.deps.clearTimer(this.timer);
      this.timer = undefined;
      void this.flush();
      return;
    }
    if (this.timer === undefined) {
      this.timer = this.deps.setTimer(() => void this.flush(), flushDelayMs(this.lastFlushAt, STATUS_FLUSH_MS, this.deps.nowMs()));
    }
  }

  private async flush(): Promise<void> {
    this.timer = undefined;
    if (this.flushing || this.stopped) return;
    this.lastFlushAt = this.deps.nowMs();
    const tasks = this.tasks;
    const nodes = this.nodes;
    const waiters = this.waiters;
    this.tasks = new Map();
    this.nodes = new Map();
    this.waiters = [];
    this.flushing = true;
    let error: Error | undefined;
    for (let attempt = 1; attempt <= FLUSH_ATTEMPTS; attempt++) {
      try {
        await this.deps.store.batch(async (b) => {
          for (const [id, patch] of nodes) await b.update((tx) => this.writeNode(tx, id, patch));
          for (const [id, u] of tasks) await b.update((tx) => this.writeTask(tx, id, u.nodeId, u.status));
        });
        error = undefined;
        break;
      } catch (err) {
        error = err as Error;
        const cause = err instanceof BatchError ? err.cause : err;
        const retryable = cause instanceof VersionConflictError || cause instanceof AlreadyExistsError;
        this.deps.logger.debug('status flush failed', { attempt, retryable, err: error.message });
        if (!retryable) break;
      }
    }
    this.flushing = false;
    if (error) this.deps.logger.warn('status updates not committed; agents will resend', { err: error.message });
    for (const w of waiters) {
      if (error) w.reject(error);
      else w.resolve();
    }
    this.schedule();
  }

  private writeTask(tx: WriteTx, taskId: string, nodeId: string, status: TaskStatus): void {
    const row = tx.get(tasksTable, taskId);
    if (!row) return; // deleted meanwhile (the reaper): nothing to report on
    const task = row.object;
    if (task.nodeId !== nodeId) return; // no longer this node's task
    const current = task.status?.state ?? TaskState.TASK_STATE_NEW;
    if (status.state < current) return; // states only move forward
    if (task.status && sameStatus(task.status, status)) return;
    tx.update(tasksTable, { ...task, status }, row.version);
  }

  private writeNode(tx: WriteTx, nodeId: string, patch: NodePatch): void {
    const now = this.deps.nowMs();
    const row = tx.get(nodesTable, nodeId);
    if (!row) {
      if (!patch.createIfMissing) return; // removed (node rm): do not resurrect it
      tx.create(
        nodesTable,
        Node.create({
          id: nodeId,
          meta: { createdAtMs: now, updatedAtMs: now },
          spec: {},
          role: NodeRole.NODE_ROLE_WORKER,
          description: patch.description,
          status: { state: patch.state, message: patch.message, addr: patch.addr ?? '' },
        }),
      );
      return;
    }
    const node = row.object;
    const next: Node = {
      ...node,
      status: { state: patch.state, message: patch.message, addr: patch.addr ?? node.status?.addr ?? '' },
      description: patch.description ?? node.description,
    };
    if (sameNode(node, next)) return;
    tx.update(nodesTable, { ...next, meta: { ...(node.meta ?? { version: 0, createdAtMs: now }), updatedAtMs: now } }, row.version);
  }
}

function sameStatus(a: TaskStatus, b: TaskStatus): boolean {
  return Buffer.compare(TaskStatus.encode(a).finish(), TaskStatus.encode(b).finish()) === 0;
}

/** Equal in what the dispatcher writes (status, description); meta is not compared. */
function sameNode(a: Node, b: Node): boolean {
  const bytes = (n: Node) => Node.encode(Node.create({ id: n.id, status: n.status, description: n.description })).finish();
  return Buffer.compare(bytes(a), bytes(b)) === 0;
}
