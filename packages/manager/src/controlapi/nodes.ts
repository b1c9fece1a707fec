// Node RPCs: list, get, update (availability, labels, promote/demote), remove.
import {
  NodeAvailability,
  NodeRole,
  NodeSpec,
  NodeState,
  TaskState,
  type GetNodeRequest,
  type GetNodeResponse,
  type ListNodesRequest,
  type ListNodesResponse,
  type Node,
  type RemoveNodeRequest,
  type RemoveNodeResponse,
  type UpdateNodeRequest,
  type UpdateNodeResponse,
} from '@tswarm/api';
import { VersionConflictError, type ReadTx } from '@tswarm/store';
import { nodesTable, tasksTable } from '../tables.js';
import { atVersion, touchedMeta, withVersion, type ControlContext } from './context.js';
import { failedPrecondition, invalidArgument, outOfSequence } from './errors.js';
import { quorumAfterRemoval, type RaftMemberInfo } from './raft-members.js';
import { nodeLabel, resolveNode } from './resolve.js';
import { changeTasks, changeTasksLater, type TaskChange } from './tasks.js';

export function nodeRpcs(ctx: ControlContext) {
  const { deps } = ctx;

  /**
   * ManagerStatus from the live Raft membership, as swarmkit fills it on every read: the
   * stored node says what the node is meant to be, Raft says who votes and who leads now.
   */
  const decorate = (node: Node, members: readonly RaftMemberInfo[], leader: string): Node => {
    const m = members.find((x) => x.id === node.id);
    if (!m) return { ...node, managerStatus: undefined };
    const reachable = m.id === deps.localNodeId() || m.reachable === true;
    return {
      ...node,
      managerStatus: {
        raftId: m.id,
        addr: m.addr,
        leader: m.id === leader,
        reachability: reachable ? 'reachable' : m.reachable === false ? 'unreachable' : 'unknown',
      },
    };
  };

  /** The leader's view when this manager is a follower and can ask it (as Docker forwards these reads), else its own. */
  const liveMembers = async (): Promise<{ members: readonly RaftMemberInfo[]; leader: string }> =>
    (await deps.raft.leaderView?.()) ?? { members: deps.raft.members(), leader: deps.raft.leader() };

  async function listNodes(_req: ListNodesRequest): Promise<ListNodesResponse> {
    const { members, leader } = await liveMembers();
    const nodes = ctx.store.view((tx) => tx.list(nodesTable).map(withVersion));
    nodes.sort((a, b) => nodeLabel(a).localeCompare(nodeLabel(b)) || a.id.localeCompare(b.id));
    return { nodes: nodes.map((n) => decorate(n, members, leader)) };
  }

  async function getNode(req: GetNodeRequest): Promise<GetNodeResponse> {
    const node = ctx.store.view((tx) => withVersion(resolveNode(tx, req.nodeId)));
    const { members, leader } = await liveMembers();
    return { node: decorate(node, members, leader) };
  }

  async function updateNode(req: UpdateNodeRequest): Promise<UpdateNodeResponse> {
    const spec = validateNodeSpec(req.spec);
    try {
      const { version, result } = await ctx.write(
        (tx) => {
          const cur = resolveNode(tx, req.nodeId);
          const node = cur.object;
          if (req.nodeVersion && req.nodeVersion !== cur.version) throw outOfSequence('node');
          const demoting = node.spec?.desiredRole === NodeRole.NODE_ROLE_MANAGER && spec.desiredRole === NodeRole.NODE_ROLE_WORKER;
          if (demoting) checkDemotion(tx, node);
          const next: Node = { ...structuredClone(node), spec, meta: touchedMeta(node.meta, deps.nowMs()) };
          tx.update(nodesTable, next, cur.version);
          return next;
        },
        // With no version given the caller asked for "the current one": a status write by
        // the dispatcher in between is not their conflict, so re-read and apply again.
        () => !req.nodeVersion,
      );
      deps.logger.info('node updated', { node: nodeLabel(result), availability: spec.availability, desiredRole: spec.desiredRole });
      return { node: decorate(atVersion(result, version), deps.raft.members(), deps.raft.leader()) };
    } catch (e) {
      if (e instanceof VersionConflictError) throw outOfSequence('node');
      throw e;
    }
  }

  /**
   * Demotion only sets the desired role; the role reconciler removes the Raft member.
   * Refused when no manager would be left, or when the managers left could not reach a
   * quorum (swarmkit's CanRemoveMember): the cluster would stop accepting writes.
   */
  function checkDemotion(tx: ReadTx, node: Node): void {
    const otherManagers = tx
      .list(nodesTable)
      .filter(
        (r) =>
          r.object.id !== node.id &&
          r.object.role === NodeRole.NODE_ROLE_MANAGER &&
          r.object.spec?.desiredRole === NodeRole.NODE_ROLE_MANAGER,
      );
    if (otherManagers.length === 0) {
      throw failedPrecondition('cannot demote the last manager of the swarm; promote another node first');
    }
    const members = deps.raft.members();
    if (!members.some((m) => m.id === node.id)) return; // not voting (yet): removing it cannot hurt quorum
    const q = quorumAfterRemoval(members, node.id, deps.localNodeId());
    if (!q.ok) {
      throw failedPrecondition(
        `cannot demote ${nodeLabel(node)}: only ${q.reachable} of the ${q.remaining} remaining managers are reachable and a quorum needs ${q.quorum}; ` +
          'bring the unreachable managers back (or remove them) first',
      );
    }
  }

  async function removeNode(req: RemoveNodeRequest): Promise<RemoveNodeResponse> {
    let label = req.nodeId;
    let change: TaskChange = () => undefined;
    const { result: rest } = await ctx.write((tx) => {
      const cur = resolveNode(tx, req.nodeId);
      const node = cur.object;
      label = nodeLabel(node);
      const member = deps.raft.members().some((m) => m.id === node.id);
      // --force does not override this (nor does it in Docker): removing a voting member
      // behind Raft's back would leave the group counting a member that never answers.
      if (node.spec?.desiredRole === NodeRole.NODE_ROLE_MANAGER || member) {
        throw failedPrecondition(
          member && node.spec?.desiredRole !== NodeRole.NODE_ROLE_MANAGER
            ? `node ${label} is being demoted and is still a member of the raft cluster; wait until it is a worker, then remove it`
            : `node ${label} is a cluster manager and is a member of the raft cluster. It must be demoted to worker before removal`,
        );
      }
      // Only DOWN is safe without --force: a READY node is running tasks, and an UNKNOWN
      // or DISCONNECTED one may be back in a moment with its containers still up.
      if (!req.force && node.status?.state !== NodeState.NODE_STATE_DOWN) {
        throw failedPrecondition(`node ${label} is not down and can't be removed; stop tswarmd on it first, or use --force`);
      }
      tx.delete(nodesTable, node.id, cur.version);
      change = orphanTask(label, deps.nowMs());
      return changeTasks(tx, tx.find(tasksTable, 'byNode', node.id), change);
    });
    await changeTasksLater(ctx, rest, change);
    deps.logger.info('node removed', { node: label, force: req.force });
    return {};
  }

  return { listNodes, getNode, updateNode, removeNode };
}

/**
 * A task that had not ended on a removed node is marked ORPHANED in its *observed*
 * status, as swarmkit does (orphanNodeTasks), rather than deleted: `service ps` still
 * shows where it was and why it stopped, and no agent will ever report on it again. Its
 * desired state is left alone, so the orchestrator handles it exactly like a task that
 * died — a replicated slot gets a replacement on another node, a global task goes with
 * its node — and the task reaper deletes it with the rest of the history.
 */
function orphanTask(nodeLabelText: string, nowMs: number): TaskChange {
  return (t) => {
    if ((t.status?.state ?? TaskState.TASK_STATE_NEW) >= TaskState.TASK_STATE_COMPLETE) return undefined;
    return {
      ...t,
      meta: { version: 0, createdAtMs: t.meta?.createdAtMs ?? 0, updatedAtMs: nowMs },
      status: {
        state: TaskState.TASK_STATE_ORPHANED,
        timestampMs: nowMs,
        message: `task belonged to node ${nodeLabelText}, which was removed from the swarm`,
        err: '',
        container: t.status?.container,
        receive: [], // its node is gone: nothing reaches it there
      },
    };
  };
}

function validateNodeSpec(input: NodeSpec | undefined): NodeSpec {
  if (!input) throw invalidArgument('a node spec is required');
  const spec = NodeSpec.fromPartial(input);
  if (spec.desiredRole !== NodeRole.NODE_ROLE_WORKER && spec.desiredRole !== NodeRole.NODE_ROLE_MANAGER) {
    throw invalidArgument(`invalid node role ${spec.desiredRole}: use worker or manager`);
  }
  if (
    spec.availability !== NodeAvailability.NODE_AVAILABILITY_ACTIVE &&
    spec.availability !== NodeAvailability.NODE_AVAILABILITY_PAUSE &&
    spec.availability !== NodeAvailability.NODE_AVAILABILITY_DRAIN
  ) {
    throw invalidArgument(`invalid node availability ${spec.availability}: use active, pause or drain`);
  }
  for (const k of Object.keys(spec.labels)) {
    if (k.trim() === '') throw invalidArgument('invalid node label: the key is empty');
  }
  return spec;
}
