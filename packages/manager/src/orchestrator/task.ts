// Shared vocabulary of the orchestrators: what a reconciler returns, how a new task is
// made, and the predicates on tasks and nodes that every reconciler must agree on.
import { Node, NodeAvailability, NodeState, Service, Task, TaskSpec, TaskState } from '@tswarm/api';

/**
 * A reconciler's decisions. The caller writes them in one store batch; objects in
 * `update` and `delete` are the caller's own (frozen) objects or copies of them with
 * only `desiredState` changed, so `meta` still names the version to expect.
 */
export interface Actions {
  /** New tasks, fully formed (ID from the caller's `newId`). */
  create: Task[];
  /** Existing tasks with a new desired state. */
  update: Task[];
  /** Old tasks to remove from the store (history beyond the limit, removed slots). */
  delete: Task[];
  /**
   * Ended tasks whose replacement waits for the restart delay. Nothing is written for
   * them yet; the caller should reconcile the service again at `notBeforeMs`, when the
   * replacement appears in `create`. Being derived from the ended task's status time,
   * the wait survives a leader change without any stored timer.
   */
  delayed: Array<{ task: Task; notBeforeMs: number }>;
}

export function emptyActions(): Actions {
  return { create: [], update: [], delete: [], delayed: [] };
}

/** Old tasks kept per slot when the cluster does not say (Docker's default). */
export const DEFAULT_HISTORY_PER_SLOT = 5;

export interface ReconcileOptions {
  /** Stopped tasks kept per slot for `service ps`; default DEFAULT_HISTORY_PER_SLOT. */
  historyLimit?: number;
}

export const PENDING_MESSAGE = 'pending task scheduling';

/**
 * A new task for a slot (replicated: slot >= 1, nodeId '') or a node (global: slot 0).
 *
 * Born PENDING with no addresses: the orchestration loop's allocation step
 * (allocator/plan.ts allocateTask) gives it its network addresses before the first write,
 * or turns it back to NEW with the reason when a network is full, so a task reaches the
 * store either ready for the scheduler or saying why it is not.
 */
export function newTask(
  service: Service,
  slot: number,
  nodeId: string,
  id: string,
  nowMs: number,
  opts: { restartCount?: number; desiredState?: TaskState } = {},
): Task {
  return Task.fromPartial({
    id,
    meta: { version: 0, createdAtMs: nowMs, updatedAtMs: nowMs },
    serviceId: service.id,
    serviceName: service.spec?.name ?? '',
    slot,
    nodeId,
    spec: service.spec?.task ?? TaskSpec.fromPartial({}),
    specVersion: service.specVersion,
    desiredState: opts.desiredState ?? TaskState.TASK_STATE_RUNNING,
    status: { state: TaskState.TASK_STATE_PENDING, timestampMs: nowMs, message: PENDING_MESSAGE },
    endpoint: service.endpoint,
    restartCount: opts.restartCount ?? 0,
  });
}

/** A copy with another desired state; the caller's object is never mutated. */
export function withDesiredState(t: Task, desiredState: TaskState): Task {
  return { ...t, desiredState };
}

export function statusOf(t: Task): TaskState {
  return t.status?.state ?? TaskState.TASK_STATE_NEW;
}

/** The container is gone for good: COMPLETE, SHUTDOWN, FAILED, REJECTED, ... */
export function hasEnded(t: Task): boolean {
  return statusOf(t) > TaskState.TASK_STATE_RUNNING;
}

/**
 * The task's slot is "taken" by it: it is meant to run (desired <= RUNNING), or it ended
 * and the restart policy said not to replace it (desired COMPLETE — the slot is settled,
 * as for jobs in swarmkit). A task told to SHUTDOWN no longer occupies its slot.
 */
export function occupiesSlot(t: Task): boolean {
  return t.desiredState <= TaskState.TASK_STATE_RUNNING || isSettled(t);
}

/** Ended and, by the restart policy, not to be replaced. */
export function isSettled(t: Task): boolean {
  return t.desiredState === TaskState.TASK_STATE_COMPLETE;
}

/**
 * The node can no longer run the task: gone from the cluster, DOWN, or drained.
 * DISCONNECTED and UNKNOWN are not enough — the agent may be back in a moment and its
 * containers are probably still running (swarmkit's InvalidNode makes the same call).
 */
export function nodeLost(node: Node | undefined): boolean {
  return (
    node === undefined ||
    node.status?.state === NodeState.NODE_STATE_DOWN ||
    node.spec?.availability === NodeAvailability.NODE_AVAILABILITY_DRAIN
  );
}

/**
 * The task no longer holds anything anywhere: it ended, it never reached a node, or its
 * node is lost. Used to decide when a replacement may start (stop-first) and when a task
 * may be deleted from history.
 */
export function isStopped(t: Task, nodes: ReadonlyMap<string, Node>): boolean {
  if (hasEnded(t)) return true;
  if (t.nodeId === '' || statusOf(t) < TaskState.TASK_STATE_ASSIGNED) return true;
  return nodeLost(nodes.get(t.nodeId));
}

/** Oldest first: creation time, then status time, then ID for a total order. */
export function byAge(a: Task, b: Task): number {
  const ca = a.meta?.createdAtMs ?? 0;
  const cb = b.meta?.createdAtMs ?? 0;
  if (ca !== cb) return ca - cb;
  const sa = a.status?.timestampMs ?? 0;
  const sb = b.status?.timestampMs ?? 0;
  if (sa !== sb) return sa - sb;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * The task runs an older definition than the service's. Versions differ on every spec
 * change, but a rollback (or an edit that only touched the mode or the update config)
 * brings back a task spec that running tasks already have; comparing content then spares
 * them a pointless restart, as swarmkit does. `--force` bumps TaskSpec.forceUpdate, so a
 * forced update is always a content change.
 */
export function isDirty(service: Service, t: Task): boolean {
  if (t.specVersion === service.specVersion) return false;
  return !deepEqual(t.spec, service.spec?.task);
}

/** Structural equality of decoded protobuf values (plain objects, arrays, scalars). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b as object).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
