// The slice of Raft membership the control API needs, behind a small interface so the
// handlers stay testable without a Raft group (STYLE 2). The manager composition adapts
// its RaftNode to it; StaticRaftMembers below is the in-memory version for tests.
//
// In tswarm a manager's Raft member ID is its node ID (the RaftMembership service adds
// joining managers under their certificate's node ID), so `id` here is both.

export interface RaftMemberInfo {
  /** Raft member ID = the manager's node ID. */
  readonly id: string;
  /** The cluster-port address other managers dial (HOST:PORT). */
  readonly addr: string;
  /**
   * Whether the local member currently hears from this one (transport active). Undefined:
   * not known yet. The quorum check counts unknown as unreachable (it must not guess in
   * the unsafe direction); the local member is always counted reachable.
   */
  readonly reachable?: boolean;
  /** False for a learner that is still catching up: it does not vote, so it is not counted for quorum. Default true. */
  readonly voter?: boolean;
}

/**
 * Contract:
 * - members() and leader() are synchronous snapshots of what the local Raft node knows;
 *   they may be stale by a heartbeat. The control API uses them only for display
 *   (ManagerStatus) and for refusing a demotion that would lose quorum.
 * - leader() returns the leader's member ID, or '' while there is none.
 * - removeMember(id) resolves once the configuration change committed; it rejects when
 *   this member is not the leader or the change would lose quorum. The control API itself
 *   never calls it (demotion only sets the node's desired role; the role reconciler
 *   removes the member) — it is here so every Raft membership operation a control-plane
 *   component needs goes through one narrow seam.
 */
export interface RaftMembers {
  members(): RaftMemberInfo[];
  leader(): string;
  removeMember(id: string): Promise<void>;
  /**
   * Optional, for display: the members as the leader sees them, asked over the cluster port
   * when this member is a follower (which hears only from the leader); undefined on the
   * leader itself, or when the leader cannot be asked — the local view is shown then.
   */
  leaderView?(): Promise<{ members: RaftMemberInfo[]; leader: string } | undefined>;
}

/** In-memory RaftMembers for tests: a fixed member list a test can change. */
export class StaticRaftMembers implements RaftMembers {
  readonly removed: string[] = [];

  constructor(public list: RaftMemberInfo[] = [], public leaderId = list[0]?.id ?? '') {}

  members(): RaftMemberInfo[] {
    return this.list.map((m) => ({ ...m }));
  }

  leader(): string {
    return this.leaderId;
  }

  async removeMember(id: string): Promise<void> {
    if (!this.list.some((m) => m.id === id)) throw new Error(`raft member ${id} not found`);
    this.list = this.list.filter((m) => m.id !== id);
    this.removed.push(id);
  }

  /** What leaderView() answers; undefined (the default) as on the leader. */
  leaderList: RaftMemberInfo[] | undefined;

  async leaderView(): Promise<{ members: RaftMemberInfo[]; leader: string } | undefined> {
    return this.leaderList && { members: this.leaderList.map((m) => ({ ...m })), leader: this.leaderId };
  }
}

/**
 * Whether removing `id` from the voters leaves a reachable majority of the rest, as
 * swarmkit's CanRemoveMember decides it. `localId` is always counted reachable: the
 * caller is that member and is running.
 */
export function quorumAfterRemoval(
  members: readonly RaftMemberInfo[],
  id: string,
  localId: string,
): { remaining: number; reachable: number; quorum: number; ok: boolean } {
  const rest = members.filter((m) => m.voter !== false && m.id !== id);
  const reachable = rest.filter((m) => m.id === localId || m.reachable === true).length;
  const quorum = Math.floor(rest.length / 2) + 1;
  return { remaining: rest.length, reachable, quorum, ok: rest.length > 0 && reachable >= quorum };
}
