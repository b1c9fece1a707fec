// One slot's reconciliation, shared by the replicated orchestrator (slot = replica number)
// and the global one (slot = node). A slot should hold exactly one task meant to run.
import { Node, Service, Task, TaskState } from '@tswarm/api';
import { restartDecision } from './restart.js';
import {
  Actions,
  byAge,
  hasEnded,
  isDirty,
  isSettled,
  isStopped,
  nodeLost,
  occupiesSlot,
  statusOf,
  withDesiredState,
} from './task.js';

export interface SlotContext {
  readonly service: Service;
  readonly nodes: ReadonlyMap<string, Node>;
  readonly nowMs: number;
  /**
   * Whether a new task may be started in this slot now. Always for replicated slots (the
   * scheduler finds a node); for a global slot only while its node is READY and ACTIVE —
   * a paused node keeps its tasks but gets no new ones, not even restarts.
   */
  readonly canStart: boolean;
  /** Makes this slot's next task (fresh ID, current spec, PENDING). */
  make(restartCount: number): Task;
}

/** Records a desired-state change unless the task is already there. */
function setDesired(out: Actions, t: Task, state: TaskState): void {
  if (t.desiredState !== state) out.update.push(withDesiredState(t, state));
}

/** The task to keep among duplicates: the most advanced state, then the newest. */
function preferred(a: Task, b: Task): Task {
  const sa = statusOf(a);
  const sb = statusOf(b);
  if (sa !== sb) return sa > sb ? a : b;
  return byAge(a, b) >= 0 ? a : b;
}

/**
 * Reconciles one slot. `tasks` are all the slot's tasks, history included, oldest first.
 *
 * - No task occupies the slot: start one (a fresh slot, or one emptied by scale-down).
 * - A live task occupies it: the slot is served. Ended or lost duplicates are shut down;
 *   several live tasks all on the current spec are cut to one (a rolling update's
 *   start-first pairs, old and new spec, are left to the updater). A replacement waiting
 *   in desired READY (stop-first update) is promoted to RUNNING once every other task of
 *   the slot has stopped.
 * - Its node was lost (down, drained, removed): replace the task now. This is not the
 *   task's failure, so the restart policy and its attempt count do not apply — a task with
 *   restart condition "none" still moves off a drained node, as users expect.
 * - It ended while desired RUNNING: the restart policy decides. "No" settles the slot
 *   (desired COMPLETE, never revisited); "later" reports the delay and changes nothing,
 *   so calling again before the delay is harmless; "now" shuts it down and replaces it.
 */
export function reconcileSlot(tasks: readonly Task[], ctx: SlotContext, out: Actions): void {
  const occupants = tasks.filter(occupiesSlot);
  if (occupants.length === 0) {
    if (ctx.canStart) out.create.push(ctx.make(0));
    return;
  }
  const active = occupants.filter((t) => !isSettled(t));
  const isLive = (t: Task): boolean => !hasEnded(t) && !(t.nodeId !== '' && nodeLost(ctx.nodes.get(t.nodeId)));
  const live = active.filter(isLive);

  if (live.length > 0) {
    for (const t of active) if (!isLive(t)) setDesired(out, t, TaskState.TASK_STATE_SHUTDOWN);
    let keep = live;
    if (live.length > 1 && !live.some((t) => isDirty(ctx.service, t))) {
      const best = live.reduce(preferred);
      for (const t of live) if (t !== best) setDesired(out, t, TaskState.TASK_STATE_SHUTDOWN);
      keep = [best];
    }
    for (const t of keep) {
      if (t.desiredState >= TaskState.TASK_STATE_RUNNING) continue;
      const othersStopped = tasks.every((o) => o === t || isStopped(o, ctx.nodes));
      if (othersStopped) setDesired(out, t, TaskState.TASK_STATE_RUNNING);
    }
    return;
  }
  if (active.length === 0) return; // settled: the restart policy said no

  const last = active.reduce((a, b) => (byAge(a, b) >= 0 ? a : b));
  const replace = (restartCount: number): void => {
    if (!ctx.canStart) return;
    for (const t of active) setDesired(out, t, TaskState.TASK_STATE_SHUTDOWN);
    out.create.push(ctx.make(restartCount));
  };

  if (!hasEnded(last)) {
    // Node lost. The attempt count carries over unchanged within one spec version.
    replace(last.specVersion === ctx.service.specVersion ? last.restartCount : 0);
    return;
  }
  const decision = restartDecision(last, tasks, ctx.service, ctx.nodes.get(last.nodeId));
  if (!decision.restart) {
    for (const t of active) {
      setDesired(out, t, t === last ? TaskState.TASK_STATE_COMPLETE : TaskState.TASK_STATE_SHUTDOWN);
    }
    return;
  }
  if (decision.notBeforeMs > ctx.nowMs) {
    out.delayed.push({ task: last, notBeforeMs: decision.notBeforeMs });
    return;
  }
  replace(decision.restartCount);
}

/**
 * Task history: keeps the newest `limit` tasks of the slot that no longer occupy it and
 * deletes older ones once they have stopped (a task still shutting down is kept until the
 * agent reports it gone, so `service ps` never loses a running container). `updated`
 * holds this round's desired-state changes, which count as already applied.
 */
export function pruneHistory(
  tasks: readonly Task[],
  limit: number,
  nodes: ReadonlyMap<string, Node>,
  updated: ReadonlyMap<string, Task>,
  out: Actions,
): void {
  const history = tasks.map((t) => updated.get(t.id) ?? t).filter((t) => !occupiesSlot(t));
  const excess = history.length - Math.max(0, limit);
  if (excess <= 0) return;
  const oldestFirst = [...history].sort(byAge);
  for (const t of oldestFirst.slice(0, excess)) {
    // A task whose desired state changes this round goes next round: never both written
    // and deleted in one batch, and watchers (the dispatcher) see the shutdown first.
    if (isStopped(t, nodes) && !updated.has(t.id)) out.delete.push(t);
  }
}

/** Shuts down every occupant of a slot that is going away (scale-down, node left). */
export function vacateSlot(tasks: readonly Task[], out: Actions): void {
  for (const t of tasks) if (occupiesSlot(t)) setDesired(out, t, TaskState.TASK_STATE_SHUTDOWN);
}

/** Tasks grouped by a key, each group oldest first, keys in sorted order. */
export function groupTasks<K extends string | number>(tasks: readonly Task[], key: (t: Task) => K): Map<K, Task[]> {
  const groups = new Map<K, Task[]>();
  for (const t of tasks) {
    const k = key(t);
    const g = groups.get(k);
    if (g) g.push(t);
    else groups.set(k, [t]);
  }
  for (const g of groups.values()) g.sort(byAge);
  return new Map([...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** The round's desired-state changes by task ID, for history pruning. */
export function updatesById(out: Actions): Map<string, Task> {
  return new Map(out.update.map((t) => [t.id, t]));
}
