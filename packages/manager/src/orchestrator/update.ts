// The rolling updater's decision core: one step of rolling a new spec out to a service's
// slots, called by the event loop on every change of the service's tasks and at `wakeAtMs`.
//
// swarmkit runs `parallelism` worker goroutines that each replace a slot, wait for the new
// task to run, sleep `delay`, and take the next. Here the same schedule is a pure step
// over lanes: a lane is busy from the moment it starts a task until `delay` after that
// task is RUNNING (or has ended). What must be remembered between steps (which tasks
// this update started, when they ran, which failed) is the `UpdateProgress` value the
// caller keeps and hands back; like swarmkit's updater it lives in the leader's memory,
// and after a leader change the update resumes with a fresh count of failures.
import {
  Node,
  Service,
  Task,
  TaskState,
  UpdateConfig,
  UpdateFailureAction,
  UpdateOrder,
  UpdateState,
  UpdateStatus,
} from '@tswarm/api';
import { globalTaskMayStay } from './global.js';
import { groupTasks } from './slot.js';
import { hasEnded, isDirty, isSettled, isStopped, newTask, nodeLost, occupiesSlot, statusOf, withDesiredState } from './task.js';

/** Docker's defaults for `--update-*` when the spec carries no config. */
export const DEFAULT_UPDATE_CONFIG: UpdateConfig = {
  parallelism: 1,
  delayMs: 0,
  failureAction: UpdateFailureAction.UPDATE_FAILURE_ACTION_PAUSE,
  monitorMs: 5_000, // a task that dies within 5 s of starting is the update's failure
  maxFailureRatio: 0,
  order: UpdateOrder.UPDATE_ORDER_STOP_FIRST,
};
/** Docker's defaults for `--rollback-*` (the same values). */
export const DEFAULT_ROLLBACK_CONFIG: UpdateConfig = { ...DEFAULT_UPDATE_CONFIG };

interface StartedTask {
  readonly createdAtMs: number;
  /** When it was first seen RUNNING (its status time). */
  readonly runningAtMs?: number;
  /** When it was first seen ended. */
  readonly endedAtMs?: number;
}

export interface UpdateProgress {
  /** The service spec version being rolled out; a new version starts a new update. */
  readonly specVersion: number;
  readonly rollback: boolean;
  /** Slots on an old spec when the update started: the failure ratio's denominator. */
  readonly totalSlots: number;
  /** Tasks this update started, by ID. */
  readonly started: Readonly<Record<string, StartedTask>>;
  /** IDs of started tasks that failed or exited within the monitor period. */
  readonly failures: readonly string[];
}

export interface PlanUpdateInput {
  readonly service: Service;
  /** The service's tasks (others are ignored). */
  readonly tasks: readonly Task[];
  readonly nodes: readonly Node[];
  readonly nowMs: number;
  /** What the previous step returned; undefined at first or after a leader change. */
  readonly progress?: UpdateProgress;
  readonly newId: () => string;
}

export interface UpdateStep {
  /** Hand back to the next step; undefined when no update is in progress. */
  progress: UpdateProgress | undefined;
  create: Task[];
  /** Existing tasks with a new desired state. */
  update: Task[];
  /** When set, write it to service.updateStatus. */
  updateStatus?: UpdateStatus;
  /** When set, the failure action is rollback: write rollbackService(service, now, this). */
  rollback?: string;
  /** Call again at this time even if no task changes (delay or monitor period ending). */
  wakeAtMs?: number;
}

const FAILURE_STATES = new Set([TaskState.TASK_STATE_COMPLETE, TaskState.TASK_STATE_FAILED, TaskState.TASK_STATE_REJECTED]);

function status(service: Service, state: UpdateState, nowMs: number, message: string, done = false): UpdateStatus {
  const startedAtMs = service.updateStatus?.startedAtMs || nowMs;
  return { state, startedAtMs, completedAtMs: done ? nowMs : 0, message };
}

/**
 * One step of a rolling update. Replaces slots whose tasks run an older spec, at most
 * `parallelism` at a time (0 = all), `delay` apart; stop-first shuts the old task down and
 * starts the new one (desired READY until the old has stopped, then the slot reconciler
 * promotes it); start-first starts the new one and shuts the old down once the new runs.
 * A started task that ends (exit, failure, rejection) before running `monitor` counts as
 * a failure; past `maxFailureRatio` of the slots the failure action applies: pause, or
 * rollback (a failing rollback pauses — never roll back a rollback). The update completes
 * when no slot is left on an old spec and the last tasks have run for `monitor`.
 *
 * Slots whose old task ended or lost its node are the replicated/global reconciler's to
 * replace (with the current spec), so the two never act on the same slot in one round.
 */
export function planUpdate(input: PlanUpdateInput): UpdateStep {
  const { service, nowMs } = input;
  const state = service.updateStatus?.state ?? UpdateState.UPDATE_STATE_UNKNOWN;
  const rollbackMode =
    state === UpdateState.UPDATE_STATE_ROLLBACK_STARTED || state === UpdateState.UPDATE_STATE_ROLLBACK_PAUSED;
  const cfg = (rollbackMode ? service.spec?.rollback ?? DEFAULT_ROLLBACK_CONFIG : service.spec?.update) ?? DEFAULT_UPDATE_CONFIG;
  const global = service.spec?.mode?.$case === 'global';
  const nodes = new Map(input.nodes.map((n) => [n.id, n]));
  const byId = new Map(input.tasks.map((t) => [t.id, t]));
  const slots = groupTasks(
    input.tasks.filter((t) => t.serviceId === service.id),
    (t): string | number => (global ? t.nodeId : t.slot),
  );
  const step: UpdateStep = { progress: input.progress, create: [], update: [] };
  const isLive = (t: Task): boolean => !hasEnded(t) && !(t.nodeId !== '' && nodeLost(nodes.get(t.nodeId)));

  // Start-first hand-over, whatever the update's state: once a slot's new task runs, the old goes.
  const dirtySlots: Task[][] = [];
  let waiting = 0; // old-spec slots the reconciler must replace first
  for (const [key, ts] of slots) {
    const occ = ts.filter(occupiesSlot);
    const clean = occ.filter((t) => !isDirty(service, t));
    if (clean.some((t) => isLive(t) && statusOf(t) === TaskState.TASK_STATE_RUNNING)) {
      for (const t of occ) if (isDirty(service, t)) step.update.push(withDesiredState(t, TaskState.TASK_STATE_SHUTDOWN));
      continue;
    }
    if (occ.length === 0 || clean.length > 0) continue;
    if (global && !globalTaskMayStay(service, nodes.get(key as string))) continue;
    if (occ.every((t) => isSettled(t) || isLive(t))) dirtySlots.push(ts);
    else waiting++;
  }
  if (state === UpdateState.UPDATE_STATE_PAUSED || state === UpdateState.UPDATE_STATE_ROLLBACK_PAUSED) return step;

  let progress = input.progress;
  if (!progress || progress.specVersion !== service.specVersion || progress.rollback !== rollbackMode) {
    if (dirtySlots.length + waiting === 0) {
      if (state === UpdateState.UPDATE_STATE_UPDATING || state === UpdateState.UPDATE_STATE_ROLLBACK_STARTED) {
        step.updateStatus = completed(service, rollbackMode, nowMs);
      }
      step.progress = undefined;
      return step;
    }
    progress = { specVersion: service.specVersion, rollback: rollbackMode, totalSlots: dirtySlots.length + waiting, started: {}, failures: [] };
    if (state !== UpdateState.UPDATE_STATE_UPDATING && state !== UpdateState.UPDATE_STATE_ROLLBACK_STARTED) {
      step.updateStatus = { state: UpdateState.UPDATE_STATE_UPDATING, startedAtMs: nowMs, completedAtMs: 0, message: 'update in progress' };
    }
  }

  // Observe the tasks this update started.
  const started: Record<string, StartedTask> = {};
  const failures = [...progress.failures];
  for (const [id, s] of Object.entries(progress.started)) {
    const t = byId.get(id);
    if (!t) continue; // deleted: nothing more to learn from it
    const at = t.status?.timestampMs || nowMs;
    let next = s;
    if (next.runningAtMs === undefined && statusOf(t) === TaskState.TASK_STATE_RUNNING) next = { ...next, runningAtMs: at };
    if (next.endedAtMs === undefined && hasEnded(t)) {
      next = { ...next, endedAtMs: at };
      const early = next.runningAtMs === undefined || at - next.runningAtMs <= cfg.monitorMs;
      if (early && FAILURE_STATES.has(statusOf(t)) && !failures.includes(id)) failures.push(id);
    }
    started[id] = next;
  }
  progress = { ...progress, started, failures };
  step.progress = progress;

  if (failures.length > 0 && cfg.failureAction !== UpdateFailureAction.UPDATE_FAILURE_ACTION_CONTINUE &&
      failures.length / Math.max(1, progress.totalSlots) > cfg.maxFailureRatio) {
    const culprit = failures[failures.length - 1];
    if (cfg.failureAction === UpdateFailureAction.UPDATE_FAILURE_ACTION_ROLLBACK && !rollbackMode) {
      step.rollback = `update rolled back due to failure or early termination of task ${culprit}`;
      step.progress = undefined;
    } else {
      const what = rollbackMode ? 'rollback' : 'update';
      const paused = rollbackMode ? UpdateState.UPDATE_STATE_ROLLBACK_PAUSED : UpdateState.UPDATE_STATE_PAUSED;
      step.updateStatus = status(service, paused, nowMs, `${what} paused due to failure or early termination of task ${culprit}`);
    }
    return step;
  }

  // Lanes: busy from a task's start until `delay` after it runs or ends.
  const wake: number[] = [];
  let busy = 0;
  for (const s of Object.values(started)) {
    const settledAt = s.endedAtMs ?? s.runningAtMs;
    const freeAt = settledAt === undefined ? Infinity : settledAt + cfg.delayMs;
    if (freeAt > nowMs) {
      busy++;
      if (freeAt !== Infinity) wake.push(freeAt);
    }
  }
  const parallelism = cfg.parallelism > 0 ? cfg.parallelism : Infinity;
  const batch = dirtySlots.slice(0, Math.max(0, parallelism - busy));
  for (const ts of batch) {
    const occ = ts.filter(occupiesSlot);
    const first = occ[0];
    const startFirst = cfg.order === UpdateOrder.UPDATE_ORDER_START_FIRST;
    if (!startFirst) for (const t of occ) step.update.push(withDesiredState(t, TaskState.TASK_STATE_SHUTDOWN));
    // Stop-first: the new task waits in READY unless the old ones are already stopped.
    const oldStopped = occ.every((t) => isStopped(t, nodes));
    const desiredState = startFirst || oldStopped ? TaskState.TASK_STATE_RUNNING : TaskState.TASK_STATE_READY;
    const t = newTask(service, global ? 0 : first.slot, global ? first.nodeId : '', input.newId(), nowMs, { desiredState });
    step.create.push(t);
    started[t.id] = { createdAtMs: nowMs };
  }

  const remaining = dirtySlots.length - batch.length + waiting;
  // Monitoring ends with the latest-started task's period; earlier ends change nothing.
  let monitored = true;
  let monitorEndMs = 0;
  for (const s of Object.values(started)) {
    if (s.endedAtMs !== undefined) continue;
    if (s.runningAtMs === undefined) monitored = false;
    else monitorEndMs = Math.max(monitorEndMs, s.runningAtMs + cfg.monitorMs);
  }
  if (monitorEndMs > nowMs) {
    monitored = false;
    wake.push(monitorEndMs);
  }
  if (remaining === 0 && monitored) {
    step.updateStatus = completed(service, rollbackMode, nowMs);
    step.progress = undefined;
    return step;
  }
  if (wake.length > 0) step.wakeAtMs = Math.min(...wake);
  return step;
}

function completed(service: Service, rollbackMode: boolean, nowMs: number): UpdateStatus {
  return rollbackMode
    ? status(service, UpdateState.UPDATE_STATE_ROLLBACK_COMPLETED, nowMs, 'rollback completed', true)
    : status(service, UpdateState.UPDATE_STATE_COMPLETED, nowMs, 'update completed', true);
}

/**
 * The service rolled back to its previous spec: specs swapped, a new spec version (so
 * tasks are compared against it), and the update status ROLLBACK_STARTED. Used by the
 * failure action and by `service update --rollback`. Throws when there is nothing to go
 * back to.
 */
export function rollbackService(service: Service, nowMs: number, message = 'manually requested rollback'): Service {
  if (!service.previousSpec) {
    throw new Error(`service ${service.spec?.name || service.id} has no previous spec to roll back to`);
  }
  return {
    ...service,
    spec: service.previousSpec,
    previousSpec: service.spec,
    specVersion: service.specVersion + 1,
    updateStatus: { state: UpdateState.UPDATE_STATE_ROLLBACK_STARTED, startedAtMs: nowMs, completedAtMs: 0, message },
  };
}
