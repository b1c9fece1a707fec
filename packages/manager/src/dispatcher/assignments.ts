// One node's Assignments stream: the full set of tasks the agent must know about first
// (TYPE_COMPLETE), then only what changed (TYPE_INCREMENTAL). The set is read and the
// watch opened in one synchronous turn (store.viewAndWatch), so no change falls in between.
//
// Changes are diffed against what this stream last SENT, per task, at the end of a short
// batching window: an agent reporting RUNNING writes the task, but status is not
// agent-visible, so the stream stays quiet instead of echoing the agent's own report back.
import * as grpc from '@grpc/grpc-js';
import {
  AssignmentChange_Action,
  AssignmentsMessage_Type,
  Task,
  TaskState,
  type AssignmentChange,
  NetworkView,
  type AssignmentsMessage,
  type Logger,
  flushDelayMs,
} from '@tswarm/api';
import { StatusError } from '@tswarm/ca';
import { WatcherLaggedError, type StoreEvent, type Store, type Watcher } from '@tswarm/store';
import { tasksTable } from '../tables.js';
import type { TimerHandle } from './contract.js';
import type { SessionBound } from './session-registry.js';

/**
 * Period that collects store events into one message. A service create or scale reaches a
 * node as several transactions (scheduler batches, allocator), and a rolling update
 * touches tasks one Raft entry at a time; at most one message per 20 ms merges such a burst
 * into two (its first change goes out at once after a quiet period: flushDelayMs) while
 * adding no noticeable latency next to a container start. The wait is not reset by each
 * event, so the added latency is bounded by the period.
 */
export const ASSIGNMENT_BATCH_MS = 20;

/** The Assignments stream as this class sees it; the gRPC adapter implements it. */
export interface AssignmentsSink {
  send(msg: AssignmentsMessage): void;
  end(err: StatusError): void;
}

export interface AssignmentStreamDeps {
  store: Store;
  nowMs(): number;
  setTimer(fn: () => void, ms: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
  logger: Logger;
  /** The node's network view now, for the first (complete) message; none in tests that do not need it. */
  networkView?(nodeId: string): NetworkView;
}

/**
 * Whether the agent of `task.nodeId` must hold the task. From ASSIGNED on (before that the
 * scheduler has not committed it to the node — swarmkit's rule too) until the manager
 * wants it gone (desired ≥ REMOVE) or gave up on it (REMOVE/ORPHANED). Finished tasks
 * (COMPLETE…REJECTED) stay: the agent keeps their containers until told to remove them.
 */
export function inAssignmentSet(task: Task): boolean {
  const state = task.status?.state ?? TaskState.TASK_STATE_NEW;
  return state >= TaskState.TASK_STATE_ASSIGNED && state < TaskState.TASK_STATE_REMOVE && task.desiredState < TaskState.TASK_STATE_REMOVE;
}

/**
 * Whether `a` and `b` differ in what the agent acts on: what to run (spec, specVersion,
 * endpoint), whether to run it (desiredState) and where it is plugged in (networks).
 * Status is the agent's own report and deliberately not compared.
 */
export function agentVisibleChanged(a: Task, b: Task): boolean {
  return Buffer.compare(visibleBytes(a), visibleBytes(b)) !== 0;
}

function visibleBytes(t: Task): Uint8Array {
  return Task.encode(
    Task.create({
      spec: t.spec,
      specVersion: t.specVersion,
      desiredState: t.desiredState,
      networks: t.networks,
      endpoint: t.endpoint,
    }),
  ).finish();
}

export class AssignmentStream implements SessionBound {
  /** taskId → the task as last sent. Invariant: exactly the agent's view of its set. */
  private readonly sent = new Map<string, Task>();
  /** taskId → latest version seen in this window, and whether it is still in the set. */
  private readonly touched = new Map<string, { task: Task; inSet: boolean }>();
  private timer: TimerHandle | undefined;
  /** deps.nowMs() at the last flush of task changes (see flushDelayMs). */
  private lastFlushAt = -Infinity;
  private watcher: Watcher | undefined;
  /** Encoded form of the network view last sent; a view is sent only when it differs. */
  private sentView: Buffer | undefined;
  private closed = false;

  constructor(
    private readonly deps: AssignmentStreamDeps,
    readonly nodeId: string,
    private readonly sink: AssignmentsSink,
  ) {}

  get isClosed(): boolean {
    return this.closed;
  }

  /** Sends the complete set and starts following changes. */
  start(): void {
    const nodeId = this.nodeId;
    const { result, watcher } = this.deps.store.viewAndWatch((tx) => tx.find(tasksTable, 'byNode', nodeId), {
      tables: [tasksTable],
      // Runs in the applier: a cheap test that keeps other nodes' tasks out of our queue.
      filter: (ev) => (ev.object as Task).nodeId === nodeId || (ev.oldObject as Task | undefined)?.nodeId === nodeId,
    });
    this.watcher = watcher;
    const changes: AssignmentChange[] = [];
    for (const row of result) {
      if (!inAssignmentSet(row.object)) continue;
      this.sent.set(row.object.id, row.object);
      changes.push({ action: AssignmentChange_Action.ACTION_UPDATE, task: row.object });
    }
    const view = this.deps.networkView?.(nodeId);
    if (view) this.sentView = Buffer.from(NetworkView.encode(view).finish());
    this.sink.send({ type: AssignmentsMessage_Type.TYPE_COMPLETE, changes, networkView: view });
    void this.pump(watcher);
  }

  /** A freshly built view of this node: sent (alone) when it differs from the last one sent. */
  offerNetworkView(view: NetworkView): void {
    if (this.closed) return;
    const bytes = Buffer.from(NetworkView.encode(view).finish());
    if (this.sentView && bytes.equals(this.sentView)) return;
    this.sentView = bytes;
    this.sink.send({ type: AssignmentsMessage_Type.TYPE_INCREMENTAL, changes: [], networkView: view });
  }

  close(err: StatusError): void {
    if (this.closed) return;
    this.closed = true;
    if (this.timer !== undefined) this.deps.clearTimer(this.timer);
    this.timer = undefined;
    this.watcher?.close();
    this.sink.end(err);
  }

  private async pump(watcher: Watcher): Promise<void> {
    try {
      for await (const ev of watcher) this.onEvent(ev);
    } catch (err) {
      // Lagged: the agent re-opens Assignments and gets a fresh complete set — simpler and
      // safer than re-listing in place on a stream the agent reads as a diff.
      const lagged = err instanceof WatcherLaggedError;
      this.deps.logger.warn('assignments watch failed', { node: this.nodeId, err: (err as Error).message });
      this.close(
        new StatusError(
          lagged ? grpc.status.ABORTED : grpc.status.UNAVAILABLE,
          `assignments stream of node ${this.nodeId} interrupted (${(err as Error).message}); reopen it for a complete set`,
        ),
      );
    }
  }

  private onEvent(ev: StoreEvent): void {
    if (this.closed) return;
    const task = ev.object as Task;
    const inSet = ev.kind !== 'delete' && task.nodeId === this.nodeId && inAssignmentSet(task);
    const sent = this.sent.get(task.id);
    if (!this.touched.has(task.id)) {
      // The common case, skipped without arming a timer: the agent's own status report.
      if (inSet && sent && !agentVisibleChanged(sent, task)) return;
      if (!inSet && !sent) return; // not ours to tell (still PENDING, or never sent)
    }
    this.touched.set(task.id, { task, inSet });
    if (this.timer === undefined) this.timer = this.deps.setTimer(() => this.flush(), flushDelayMs(this.lastFlushAt, ASSIGNMENT_BATCH_MS, this.deps.nowMs()));
  }

  /** Sends what changed for the agent since the last message, if anything did. */
  private flush(): void {
    this.timer = undefined;
    if (this.closed) return;
    this.lastFlushAt = this.deps.nowMs();
    const changes: AssignmentChange[] = [];
    for (const [id, { task, inSet }] of this.touched) {
      const sent = this.sent.get(id);
      if (!inSet) {
        if (!sent) continue;
        this.sent.delete(id);
        // The latest object (desired REMOVE, or as deleted): the agent needs only its id.
        changes.push({ action: AssignmentChange_Action.ACTION_REMOVE, task });
      } else if (!sent || agentVisibleChanged(sent, task)) {
        this.sent.set(id, task);
        changes.push({ action: AssignmentChange_Action.ACTION_UPDATE, task });
      }
    }
    this.touched.clear();
    if (changes.length > 0) this.sink.send({ type: AssignmentsMessage_Type.TYPE_INCREMENTAL, changes, networkView: undefined });
  }
}
