// The scheduler's decision core: pending tasks in, node assignments (or reasons) out.
//
// Pure: the caller passes every node and task, and writes the decisions back (status
// ASSIGNED with the node, or the unschedulable message on a still-PENDING task). The same
// input always gives the same output — no clock, no randomness, ties broken by node ID.
import { Node, Task } from '@tswarm/api';
import { Filter, DEFAULT_FILTERS } from './filters.js';
import { buildNodeInfos, NodeInfo, reserve } from './node-info.js';
import { Pipeline } from './pipeline.js';

export interface ScheduleInput {
  readonly nodes: readonly Node[];
  /** Every task in the cluster: those holding a node count against its resources and spread. */
  readonly tasks: readonly Task[];
  /**
   * Tasks to place: status PENDING, desired RUNNING. `nodeId` is empty, except for global
   * services, whose orchestrator presets the one node the task is for: such a task is
   * only checked against that node.
   */
  readonly pending: readonly Task[];
}

export interface Assignment {
  readonly taskId: string;
  readonly nodeId: string;
}

export interface Unschedulable {
  readonly taskId: string;
  /** For the task's status message: "no suitable node (2 nodes lack 4 GiB memory)". */
  readonly message: string;
}

export interface ScheduleResult {
  assignments: Assignment[];
  unschedulable: Unschedulable[];
}

export const NO_SUITABLE_NODE = 'no suitable node';

/**
 * Placement order. Pinned (global) tasks first: they have exactly one possible node, so
 * they should claim it before flexible tasks fill it. Then by service and slot, so that
 * replicas of one service are placed together and the result does not depend on the
 * order the caller listed them in.
 */
function placementOrder(a: Task, b: Task): number {
  const pinned = Number(b.nodeId !== '') - Number(a.nodeId !== '');
  if (pinned !== 0) return pinned;
  return cmp(a.serviceId, b.serviceId) || a.slot - b.slot || cmp(a.nodeId, b.nodeId) || cmp(a.id, b.id);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Spread: the node with the fewest tasks of this service, then the fewest tasks overall,
 * then the smallest node ID (determinism). Counts include this call's earlier assignments.
 */
function better(a: NodeInfo, b: NodeInfo, serviceId: string): boolean {
  const sa = a.activeTasksByService.get(serviceId) ?? 0;
  const sb = b.activeTasksByService.get(serviceId) ?? 0;
  if (sa !== sb) return sa < sb;
  if (a.activeTasks !== b.activeTasks) return a.activeTasks < b.activeTasks;
  return a.node.id < b.node.id;
}

/**
 * Places each pending task on the best node that passes every filter, or says why none
 * does. `_nowMs` is part of the contract for the caller's status timestamps and future
 * time-based filters; no decision depends on it today.
 */
export function schedule(
  input: ScheduleInput,
  _nowMs: number,
  filters: readonly Filter[] = DEFAULT_FILTERS,
): ScheduleResult {
  const infos = buildNodeInfos(input.nodes, input.tasks);
  // Node order is fixed by ID so that scanning (and so failure counting) is deterministic.
  const allInfos = [...infos.values()].sort((a, b) => cmp(a.node.id, b.node.id));
  const result: ScheduleResult = { assignments: [], unschedulable: [] };

  for (const task of [...input.pending].sort(placementOrder)) {
    let candidates = allInfos;
    if (task.nodeId !== '') {
      const pinned = infos.get(task.nodeId);
      if (!pinned) {
        result.unschedulable.push({
          taskId: task.id,
          message: `${NO_SUITABLE_NODE} (node ${task.nodeId} is not part of the cluster)`,
        });
        continue;
      }
      candidates = [pinned];
    }
    const pipeline = new Pipeline(task, filters);
    let best: NodeInfo | undefined;
    for (const info of candidates) {
      if (pipeline.passes(info) && (!best || better(info, best, task.serviceId))) best = info;
    }
    if (best) {
      reserve(best, task);
      result.assignments.push({ taskId: task.id, nodeId: best.node.id });
    } else {
      const why = pipeline.explain();
      result.unschedulable.push({ taskId: task.id, message: why ? `${NO_SUITABLE_NODE} (${why})` : NO_SUITABLE_NODE });
    }
  }
  return result;
}
