// The replicated orchestrator's decision core: a service and its tasks in, the task
// changes that bring it to `replicas` running slots out.
//
// Rolling out a new spec to running tasks is the updater's job (update.ts), not this
// one's: tasks on an older spec keep their slot here. Replacements this reconciler makes
// (restarts, moves off lost nodes, new slots) always use the current spec.
import { Node, Service, Task } from '@tswarm/api';
import { groupTasks, pruneHistory, reconcileSlot, updatesById, vacateSlot } from './slot.js';
import {
  Actions,
  DEFAULT_HISTORY_PER_SLOT,
  emptyActions,
  newTask,
  occupiesSlot,
  ReconcileOptions,
} from './task.js';

/** The replica count of a replicated service; throws for any other mode. */
export function replicasOf(service: Service): number {
  const mode = service.spec?.mode;
  if (mode?.$case !== 'replicated') {
    throw new Error(`service ${service.id} is not a replicated service`);
  }
  return mode.value.replicas;
}

/**
 * Reconciles a replicated service. Pure: the same arguments give the same actions, and
 * applying them then calling again gives no further actions (until time or the tasks'
 * statuses move on).
 *
 * Slots: the occupied slots (a task meant to run or settled) are counted. Scale-down
 * keeps the lowest-numbered ones and shuts down the rest (so `web.4`, `web.5` go first);
 * scale-up fills the lowest free numbers. Existing slot numbers are never renumbered, so
 * a gap (slots 1, 2, 5 for three replicas) is kept rather than restarting a task to close it.
 *
 * @param tasks the service's tasks, history included (others are ignored)
 * @param nodes every node, to tell which tasks' nodes are lost
 * @param newId makes IDs for new tasks — the caller's source of uniqueness
 */
export function reconcileReplicated(
  service: Service,
  tasks: readonly Task[],
  nodes: readonly Node[],
  nowMs: number,
  newId: () => string,
  opts: ReconcileOptions = {},
): Actions {
  const replicas = replicasOf(service);
  const limit = opts.historyLimit ?? DEFAULT_HISTORY_PER_SLOT;
  const nodeMap = new Map(nodes.map((n) => [n.id, n]));
  const slots = groupTasks(
    tasks.filter((t) => t.serviceId === service.id),
    (t) => t.slot,
  );
  const out = emptyActions();

  const occupied = [...slots.entries()].filter(([slot, ts]) => slot > 0 && ts.some(occupiesSlot)).map(([s]) => s);
  const kept = new Set(occupied.slice(0, replicas));
  // Lowest free slot numbers for the missing replicas; a free number may hold history.
  for (let slot = 1; kept.size < replicas; slot++) {
    if (!kept.has(slot)) kept.add(slot);
  }

  const ctx = (slot: number) => ({
    service,
    nodes: nodeMap,
    nowMs,
    canStart: true,
    make: (restartCount: number) => newTask(service, slot, '', newId(), nowMs, { restartCount }),
  });
  for (const slot of [...kept].sort((a, b) => a - b)) reconcileSlot(slots.get(slot) ?? [], ctx(slot), out);
  // Slot 0 holds no replica (it is the global services' slot); anything there is removed.
  for (const [slot, ts] of slots) if (!kept.has(slot)) vacateSlot(ts, out);

  const updated = updatesById(out);
  for (const [slot, ts] of slots) {
    // A removed slot keeps no history: its tasks go once stopped, as swarmkit's REMOVE.
    const occupiedAfter = ts.some((t) => occupiesSlot(updated.get(t.id) ?? t));
    const slotLimit = kept.has(slot) || occupiedAfter ? limit : 0;
    pruneHistory(ts, slotLimit, nodeMap, updated, out);
  }
  return out;
}
