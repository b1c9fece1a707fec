// Task RPCs (list with filters, get) and the helper the service and node RPCs use to
// change many tasks together with the object they belong to.
import {
  TaskState,
  type GetTaskRequest,
  type GetTaskResponse,
  type ListTasksRequest,
  type ListTasksResponse,
  type Task,
} from '@tswarm/api';
import { MAX_ACTIONS_PER_TRANSACTION, type Versioned, type WriteTx } from '@tswarm/store';
import { tasksTable } from '../tables.js';
import { withVersion, type ControlContext } from './context.js';
import { resolveNode, resolveService, resolveTask } from './resolve.js';

export function taskRpcs(ctx: ControlContext) {
  async function listTasks(req: ListTasksRequest): Promise<ListTasksResponse> {
    return ctx.store.view((tx) => {
      // Resolve both filters first: an unknown service or node is NOT_FOUND, not an empty list.
      const serviceId = req.serviceId ? resolveService(tx, req.serviceId).object.id : '';
      const nodeId = req.nodeId ? resolveNode(tx, req.nodeId).object.id : '';
      const rows = serviceId
        ? tx.find(tasksTable, 'byService', serviceId)
        : nodeId
          ? tx.find(tasksTable, 'byNode', nodeId)
          : tx.list(tasksTable);
      const tasks = rows
        .filter((r) => !nodeId || r.object.nodeId === nodeId)
        .filter((r) => req.includeHistory || r.object.desiredState <= TaskState.TASK_STATE_RUNNING)
        .map(withVersion);
      tasks.sort(taskOrder);
      return { tasks };
    });
  }

  async function getTask(req: GetTaskRequest): Promise<GetTaskResponse> {
    return { task: ctx.store.view((tx) => withVersion(resolveTask(tx, req.taskId))) };
  }

  return { listTasks, getTask };
}

/** Service name, slot, node, then newest first — the order `service ps` shows. */
function taskOrder(a: Task, b: Task): number {
  return (
    a.serviceName.localeCompare(b.serviceName) ||
    a.slot - b.slot ||
    a.nodeId.localeCompare(b.nodeId) ||
    (b.meta?.createdAtMs ?? 0) - (a.meta?.createdAtMs ?? 0) ||
    a.id.localeCompare(b.id)
  );
}

/**
 * Task writes made in the same transaction as the service or node change they follow.
 * Beyond this, the rest go in follow-up batch transactions: one Raft entry stays within
 * the store's per-transaction budget, and the consumers (orchestrator, reaper) treat a
 * task of a deleted service or node as theirs to clean up anyway.
 */
export const INLINE_TASK_WRITES = MAX_ACTIONS_PER_TRANSACTION - 1;

/** How to change one task; undefined = leave it as it is. */
export type TaskChange = (t: Task) => Task | undefined;

/**
 * Applies `change` to the first INLINE_TASK_WRITES tasks that need it, in `tx`; returns
 * the IDs of the others for changeTasksLater().
 */
export function changeTasks(tx: WriteTx, rows: readonly Versioned<Task>[], change: TaskChange): string[] {
  const rest: string[] = [];
  let written = 0;
  for (const r of rows) {
    const next = change(r.object);
    if (!next) continue;
    if (written >= INLINE_TASK_WRITES) {
      rest.push(r.object.id);
      continue;
    }
    tx.update(tasksTable, next, r.version);
    written++;
  }
  return rest;
}

/** The follow-up of changeTasks(): batches re-read each task, so a raced write is simply redone. */
export async function changeTasksLater(ctx: ControlContext, ids: readonly string[], change: TaskChange): Promise<void> {
  if (ids.length === 0) return;
  try {
    await ctx.store.batch(async (b) => {
      for (const id of ids) {
        await b.update((tx) => {
          const r = tx.get(tasksTable, id);
          const next = r && change(r.object);
          if (r && next) tx.update(tasksTable, next, r.version);
        });
      }
    });
  } catch (e) {
    // The primary change committed; leftovers are the orchestrator's to finish.
    ctx.deps.logger.warn('could not update every task after the control api change; the orchestrator will finish it', {
      tasks: ids.length,
      error: (e as Error).message,
    });
  }
}

/** A change that raises desired state to `state` (states only move forward). */
export function raiseDesiredState(state: TaskState, nowMs: number): TaskChange {
  return (t) => (t.desiredState >= state ? undefined : { ...t, desiredState: state, meta: { version: 0, createdAtMs: t.meta?.createdAtMs ?? 0, updatedAtMs: nowMs } });
}
