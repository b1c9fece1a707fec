// What promote/demote still has to do: the pure decision (planRoleChanges) and the two
// store writes that keep node.role and node.managerStatus in step with Raft.
//
// node.spec.desiredRole is what the user asked for (`node promote/demote`); node.role is
// what the node is; Raft membership is the truth about who votes. Promotion needs no Raft
// change from the leader: the promoted node renews its certificate and joins through
// RaftMembership.Join, whose promotion to voter records the role. Demotion is the leader's
// work: leave leadership first if it is the leader, then remove the member, then record.
import { Node, NodeRole } from '@tswarm/api';
import type { Store } from '@tswarm/store';
import { nodesTable } from './tables.js';

export interface RoleMember {
  id: string;
  address: string;
  voter: boolean;
  /** What the leader's Raft last heard from it; undefined when it cannot tell. */
  reachable?: boolean;
}

export type RoleChange =
  /** The leader itself is being demoted: hand leadership to `to` before anything else. */
  | { kind: 'transfer'; nodeId: string; to: string }
  | { kind: 'remove'; nodeId: string }
  /** Not (or no longer) a Raft member but recorded as a manager. */
  | { kind: 'record-worker'; nodeId: string }
  /** A voter the store does not yet record as a manager (e.g. a lost write). */
  | { kind: 'record-manager'; nodeId: string; addr: string }
  /** Nothing can be done now, and why (logged once per reason by the caller). */
  | { kind: 'blocked'; nodeId: string; reason: string };

/**
 * The role changes the leader `localId` should make now. Pure: the caller passes the
 * store's nodes and its Raft view. A node not in the store that is a Raft member is left
 * alone (node rm refuses members, so this is a join in progress).
 */
export function planRoleChanges(nodes: readonly Node[], members: readonly RoleMember[], localId: string): RoleChange[] {
  const out: RoleChange[] = [];
  const byId = new Map(members.map((m) => [m.id, m]));
  for (const n of nodes) {
    const member = byId.get(n.id);
    const wantsWorker = n.spec?.desiredRole === NodeRole.NODE_ROLE_WORKER;
    if (wantsWorker && member) {
      if (n.id !== localId) {
        out.push({ kind: 'remove', nodeId: n.id });
        continue;
      }
      // Prefer a voter the leader hears from: it is caught up enough to win at once.
      const to = members.find((m) => m.id !== localId && m.voter && m.reachable === true)
        ?? members.find((m) => m.id !== localId && m.voter);
      out.push(to ? { kind: 'transfer', nodeId: n.id, to: to.id } : { kind: 'blocked', nodeId: n.id, reason: 'no other voting manager to hand leadership to' });
    } else if (!member && (n.role === NodeRole.NODE_ROLE_MANAGER || n.managerStatus)) {
      // A node that wants to be a manager but is not a member yet is joining: until its
      // join completes it is recorded as what it is, a worker.
      out.push({ kind: 'record-worker', nodeId: n.id });
    } else if (!wantsWorker && member?.voter && (n.role !== NodeRole.NODE_ROLE_MANAGER || n.managerStatus?.addr !== member.address)) {
      out.push({ kind: 'record-manager', nodeId: n.id, addr: member.address });
    }
  }
  return out;
}

/** Records that `nodeId` is a voting manager at `addr`. No-op when the node is gone. */
export async function recordManager(store: Store, nodeId: string, addr: string, nowMs: number): Promise<void> {
  await store.update((tx) => {
    const cur = tx.get(nodesTable, nodeId);
    if (!cur) return;
    const n = cur.object;
    if (n.role === NodeRole.NODE_ROLE_MANAGER && n.managerStatus?.addr === addr) return;
    tx.update(nodesTable, {
      ...structuredClone(n),
      role: NodeRole.NODE_ROLE_MANAGER,
      // Leader and reachability are filled from live Raft on every read (controlapi/nodes.ts);
      // what is stored is the member's identity and address.
      managerStatus: { raftId: nodeId, addr, leader: false, reachability: 'reachable' },
      meta: { version: 0, createdAtMs: n.meta?.createdAtMs ?? nowMs, updatedAtMs: nowMs },
    }, cur.version);
  });
}

/** Records that `nodeId` is a worker (no longer a Raft member). No-op when the node is gone. */
export async function recordWorker(store: Store, nodeId: string, nowMs: number): Promise<void> {
  await store.update((tx) => {
    const cur = tx.get(nodesTable, nodeId);
    if (!cur) return;
    const n = cur.object;
    if (n.role === NodeRole.NODE_ROLE_WORKER && !n.managerStatus) return;
    tx.update(nodesTable, {
      ...structuredClone(n),
      role: NodeRole.NODE_ROLE_WORKER,
      managerStatus: undefined,
      meta: { version: 0, createdAtMs: n.meta?.createdAtMs ?? nowMs, updatedAtMs: nowMs },
    }, cur.version);
  });
}
