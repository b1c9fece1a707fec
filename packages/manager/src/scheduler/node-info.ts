// What the scheduler knows about one node while it places tasks: the node object, what is
// left of its resources, and how many tasks it runs (overall and per service) for spreading.
import { Node, Task, TaskState } from '@tswarm/api';

export interface NodeInfo {
  readonly node: Node;
  /** description.resources minus the reservations of the tasks that still hold them. */
  availableNanoCpus: number;
  availableMemoryBytes: number;
  /** Tasks meant to run here (desired <= RUNNING, not yet ended), for spreading. */
  activeTasks: number;
  activeTasksByService: Map<string, number>;
}

/**
 * A task holds its reservation from the moment it is assigned until it has stopped
 * (status past RUNNING), whatever its desired state: a task being shut down still occupies
 * memory until its container is gone. A PENDING task with a preset node (global services)
 * holds nothing yet — the scheduler is about to decide whether it fits.
 */
export function holdsResources(t: Task): boolean {
  const state = t.status?.state ?? TaskState.TASK_STATE_NEW;
  return t.nodeId !== '' && state >= TaskState.TASK_STATE_ASSIGNED && state <= TaskState.TASK_STATE_RUNNING;
}

/**
 * For spreading, only tasks that are meant to keep running count: a task already told to
 * shut down is leaving the node and should not push new replicas away from it.
 */
export function countsForSpread(t: Task): boolean {
  return holdsResources(t) && t.desiredState <= TaskState.TASK_STATE_RUNNING;
}

/** Builds one NodeInfo per node from the full task list. Tasks on unknown nodes are ignored. */
export function buildNodeInfos(nodes: readonly Node[], tasks: readonly Task[]): Map<string, NodeInfo> {
  const infos = new Map<string, NodeInfo>();
  for (const node of nodes) {
    infos.set(node.id, {
      node,
      availableNanoCpus: node.description?.resources?.nanoCpus ?? 0,
      availableMemoryBytes: node.description?.resources?.memoryBytes ?? 0,
      activeTasks: 0,
      activeTasksByService: new Map(),
    });
  }
  for (const t of tasks) {
    const info = infos.get(t.nodeId);
    if (!info || !holdsResources(t)) continue;
    reserve(info, t, countsForSpread(t));
  }
  return infos;
}

/** Takes the task's reservations off the node and, when `spread`, counts it as running there. */
export function reserve(info: NodeInfo, t: Task, spread = true): void {
  const r = t.spec?.resources?.reservations;
  info.availableNanoCpus -= r?.nanoCpus ?? 0;
  info.availableMemoryBytes -= r?.memoryBytes ?? 0;
  if (!spread) return;
  info.activeTasks++;
  info.activeTasksByService.set(t.serviceId, (info.activeTasksByService.get(t.serviceId) ?? 0) + 1);
}
