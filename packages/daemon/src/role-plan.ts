// What this node should do about its role, from what the leader last told its agent.
// Pure: swarm-node.ts performs the step and asks again, until nothing is left to do.
import { NodeRole as WireRole, SessionMessage } from '@tswarm/api';
import type { NodeRole } from '@tswarm/ca';

export interface LocalRole {
  nodeId: string;
  /** What this daemon runs: a Manager (and the agent) or only the agent. */
  running: NodeRole;
  /** The role in the current certificate. */
  certificate: NodeRole;
}

/** What the leader said: the node's desired role and the current Raft members. */
export interface LeaderView {
  desiredRole: NodeRole;
  managerIds: readonly string[];
}

export type RoleStep =
  /** The certificate has the wrong role for what the swarm wants: renew it (as `role`). */
  | { kind: 'renew'; role: NodeRole }
  /** Promoted and holding a manager certificate: start a Manager and join Raft. */
  | { kind: 'start-manager' }
  /** Demoted and removed from Raft by the leader: stop the Manager, keep the agent. */
  | { kind: 'stop-manager' };

/** The leader's view in a SessionMessage, or undefined when it carries no node spec. */
export function leaderView(msg: SessionMessage): LeaderView | undefined {
  if (!msg.nodeSpec) return undefined;
  const desiredRole: NodeRole = msg.nodeSpec.desiredRole === WireRole.NODE_ROLE_MANAGER ? 'manager' : 'worker';
  return { desiredRole, managerIds: msg.managers.map((m) => m.nodeId) };
}

/**
 * The next step, or undefined when the node already is what the swarm wants (or must wait).
 *
 * - Promotion: first a manager certificate (Raft and the cluster port refuse a worker's),
 *   then the Manager, which joins Raft through RaftMembership.Join.
 * - Demotion: the Manager keeps running until the leader has removed this member (it is
 *   gone from the leader's member list); stopping earlier could cost the group its quorum
 *   while Raft still counts this node. Then a worker certificate.
 */
export function nextRoleStep(local: LocalRole, leader: LeaderView): RoleStep | undefined {
  if (leader.desiredRole === 'manager' && local.running === 'worker') {
    return local.certificate === 'manager' ? { kind: 'start-manager' } : { kind: 'renew', role: 'manager' };
  }
  if (leader.desiredRole === 'worker' && local.running === 'manager') {
    return leader.managerIds.includes(local.nodeId) ? undefined : { kind: 'stop-manager' };
  }
  if (local.certificate !== leader.desiredRole) return { kind: 'renew', role: leader.desiredRole };
  return undefined;
}
