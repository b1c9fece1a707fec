// The global orchestrator's decision core: one task per eligible node.
import { Node, NodeAvailability, NodeState, Service, Task } from '@tswarm/api';
import { Constraint, nodeMatchesConstraints, parseConstraints } from '../scheduler/constraints.js';
import { groupTasks, pruneHistory, reconcileSlot, updatesById, vacateSlot } from './slot.js';
import { Actions, DEFAULT_HISTORY_PER_SLOT, emptyActions, newTask, nodeLost, ReconcileOptions } from './task.js';

/**
 * The service's constraints, or undefined when they do not parse (the control API refuses
 * such specs; one stored before a rule tightened runs nowhere rather than everywhere).
 */
function constraintsOf(service: Service): Constraint[] | undefined {
  try {
    return parseConstraints(service.spec?.task?.placement?.constraints ?? []);
  } catch {
    return undefined;
  }
}

/** A node may keep the service's task: present, not DOWN, not drained, matching. */
function mayKeep(node: Node | undefined, constraints: Constraint[] | undefined): node is Node {
  return !nodeLost(node) && constraints !== undefined && nodeMatchesConstraints(constraints, node!);
}

/** The service's task may stay on this node (see reconcileGlobal); used by the updater too. */
export function globalTaskMayStay(service: Service, node: Node | undefined): boolean {
  return mayKeep(node, constraintsOf(service));
}

/**
 * A node may start a new task: READY and ACTIVE. A paused node keeps what it runs; a
 * DISCONNECTED one keeps its task (it may be back soon) but gets no new one meanwhile.
 */
function mayStart(node: Node): boolean {
  return (
    node.status?.state === NodeState.NODE_STATE_READY &&
    (node.spec?.availability ?? NodeAvailability.NODE_AVAILABILITY_ACTIVE) === NodeAvailability.NODE_AVAILABILITY_ACTIVE
  );
}

/**
 * Reconciles a global service: each node that may run it has one task (created with the
 * node preset, for the scheduler to confirm against its filters), restarted on that node
 * by the restart policy; tasks on nodes that left, went DOWN, were drained or no longer
 * match the constraints are shut down and not replaced. History is kept per node, and
 * dropped entirely for nodes no longer in the cluster.
 */
export function reconcileGlobal(
  service: Service,
  tasks: readonly Task[],
  nodes: readonly Node[],
  nowMs: number,
  newId: () => string,
  opts: ReconcileOptions = {},
): Actions {
  if (service.spec?.mode?.$case !== 'global') throw new Error(`service ${service.id} is not a global service`);
  const limit = opts.historyLimit ?? DEFAULT_HISTORY_PER_SLOT;
  const constraints = constraintsOf(service);
  const nodeMap = new Map(nodes.map((n) => [n.id, n]));
  const byNode = groupTasks(
    tasks.filter((t) => t.serviceId === service.id),
    (t) => t.nodeId,
  );
  for (const n of [...nodes].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    if (!byNode.has(n.id)) byNode.set(n.id, []);
  }
  const out = emptyActions();

  for (const [nodeId, ts] of byNode) {
    const node = nodeMap.get(nodeId);
    if (nodeId === '' || !mayKeep(node, constraints)) {
      vacateSlot(ts, out);
      continue;
    }
    reconcileSlot(
      ts,
      {
        service,
        nodes: nodeMap,
        nowMs,
        canStart: mayStart(node),
        make: (restartCount) => newTask(service, 0, nodeId, newId(), nowMs, { restartCount }),
      },
      out,
    );
  }

  const updated = updatesById(out);
  for (const [nodeId, ts] of byNode) {
    pruneHistory(ts, nodeId !== '' && nodeMap.has(nodeId) ? limit : 0, nodeMap, updated, out);
  }
  return out;
}
