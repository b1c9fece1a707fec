// The restart policy: whether an ended task is replaced, and from when.
//
// Everything is derived from the tasks themselves (restartCount, creation and status
// times), not from a supervisor's memory as in swarmkit, so a new leader reaches the same
// decisions and the same restart times from the store alone.
import { Node, NodeAvailability, RestartCondition, Service, Task, TaskState } from '@tswarm/api';

export type RestartDecision =
  | { restart: false; reason: string }
  | { restart: true; notBeforeMs: number; restartCount: number };

/**
 * Restarts of this slot that count against max attempts inside the window ending when
 * `ended` stopped: tasks of the same spec version that were themselves restarts and were
 * created in (endedAt - window, endedAt]. Limited by the slot's kept history, so a
 * max-attempts larger than the history limit is enforced only approximately.
 */
function restartsInWindow(ended: Task, slotTasks: readonly Task[], endedAtMs: number, windowMs: number): number {
  const from = endedAtMs - windowMs;
  return slotTasks.filter((t) => {
    if (t.specVersion !== ended.specVersion || t.restartCount === 0) return false;
    const created = t.meta?.createdAtMs ?? 0;
    return created > from && created <= endedAtMs;
  }).length;
}

/**
 * Decides for a task that ended while still desired RUNNING. The policy is the one the
 * task ran with (its own spec), as in swarmkit.
 *
 * - condition NONE never restarts; ON_FAILURE does not restart a task that COMPLETEd
 *   (exit 0); ANY restarts whatever the end.
 * - max attempts (0 = unlimited) counts restarts of the slot for the current spec
 *   version: a service update resets the count, since past failures say nothing about
 *   the new definition. With a window, only restarts inside it count.
 * - the delay runs from the moment the task ended (its status time). A task whose node
 *   was drained restarts at once: the user moved it, it did not crash-loop.
 */
export function restartDecision(
  ended: Task,
  slotTasks: readonly Task[],
  service: Service,
  node: Node | undefined,
): RestartDecision {
  const policy = ended.spec?.restart;
  const condition = policy?.condition ?? RestartCondition.RESTART_CONDITION_ANY;
  const state = ended.status?.state ?? TaskState.TASK_STATE_NEW;
  if (condition === RestartCondition.RESTART_CONDITION_NONE) {
    return { restart: false, reason: 'restart condition is none' };
  }
  if (condition === RestartCondition.RESTART_CONDITION_ON_FAILURE && state === TaskState.TASK_STATE_COMPLETE) {
    return { restart: false, reason: 'task completed and restart condition is on-failure' };
  }

  const endedAtMs = ended.status?.timestampMs ?? 0;
  const sameVersion = ended.specVersion === service.specVersion;
  const maxAttempts = policy?.maxAttempts ?? 0;
  if (sameVersion && maxAttempts > 0) {
    const windowMs = policy?.windowMs ?? 0;
    const used = windowMs > 0 ? restartsInWindow(ended, slotTasks, endedAtMs, windowMs) : ended.restartCount;
    if (used >= maxAttempts) {
      return { restart: false, reason: `restart limit of ${maxAttempts} reached` };
    }
  }

  const drained = node?.spec?.availability === NodeAvailability.NODE_AVAILABILITY_DRAIN;
  const delayMs = drained ? 0 : policy?.delayMs ?? 0;
  // A task with no status time (should not happen) restarts at once rather than never.
  const notBeforeMs = endedAtMs > 0 ? endedAtMs + delayMs : 0;
  return { restart: true, notBeforeMs, restartCount: (sameVersion ? ended.restartCount : 0) + 1 };
}
