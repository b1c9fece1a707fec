import * as grpc from '@grpc/grpc-js';
import { Logger, RaftJoinResponse, RaftMembershipServer } from '@tswarm/api';
import { requireRole } from '@tswarm/ca';
import type { RaftNode } from '@tswarm/raft';
import type { Store } from '@tswarm/store';
import { recordManager } from './node-roles.js';

/** A learner is promoted once it is within this many entries of the leader's log. */
export const CATCH_UP_SLACK_ENTRIES = 64;
/** How long a joining manager may take to catch up before the join is given up. */
export const CATCH_UP_TIMEOUT_MS = 60_000;
const CATCH_UP_POLL_MS = 50;

type Cb<T> = grpc.sendUnaryData<T>;
const fail = (cb: Cb<never>, code: grpc.status, details: string) => cb({ code, details } as grpc.ServiceError);
/** Answers a handler's thrown error (a StatusError keeps its code) on `cb`. */
const failWith = (cb: Cb<never>) => (e: { code?: number; details?: string; message: string }) => fail(cb, e.code ?? grpc.status.UNAVAILABLE, e.details ?? e.message);

/**
 * Promotes a learner to voter once it holds everything the leader had when it was added
 * (within CATCH_UP_SLACK_ENTRIES of the log's end), so a new voter never weakens quorum
 * by being behind. Gives up (the member stays a learner, and says so) after the timeout.
 */
async function promoteWhenCaughtUp(deps: MembershipDeps, id: string, addr: string): Promise<void> {
  const { node } = deps;
  const target = node.lastIndex();
  const deadline = Date.now() + CATCH_UP_TIMEOUT_MS;
  for (;;) {
    if (!node.isLeader()) return; // the next leader's join retry or a new join handles it
    const match = node.matchIndex(id) ?? 0;
    if (match > 0 && match + CATCH_UP_SLACK_ENTRIES >= node.lastIndex() && match >= Math.min(target, node.lastIndex())) break;
    if (Date.now() > deadline) return;
    await new Promise((r) => setTimeout(r, CATCH_UP_POLL_MS));
  }
  try {
    await node.addMember(id, addr, false);
    // A voter now: record it (role, managerStatus), so `node ls` and the demotion checks
    // count it. If this write is lost, the leader's role reconciler records it later.
    await recordManager(deps.store, id, addr, deps.nowMs());
    deps.logger.info('manager joined the raft group as a voter', { node: id, addr });
  } catch (e) {
    deps.logger.warn('could not promote a joining manager to voter; it stays a learner until it joins again', { node: id, error: (e as Error).message });
  }
}

export interface MembershipDeps {
  node: RaftNode;
  store: Store;
  clusterId: string;
  nowMs(): number;
  logger: Logger;
}

/**
 * RaftMembership on the cluster port, for managers only. A joining manager is added as a
 * learner (it receives the log but does not vote), and promoted to voter only once it
 * has caught up, so adding it never leaves the group waiting on a member that is behind.
 * A follower answers with the leader's address and the joiner asks there.
 */
export function raftMembershipService(deps: MembershipDeps): RaftMembershipServer {
  const { node } = deps;
  const members = (): RaftJoinResponse => ({
    members: node.status().members.map((m) => ({ id: m.id, addr: m.address })),
    leaderAddr: '',
  });
  return {
    join: (call, cb) => {
      void (async () => {
        const id = requireRole(call as never, ['manager'], { clusterId: deps.clusterId });
        if (!node.isLeader()) {
          const leader = node.leaderAddress();
          if (!leader.address) return fail(cb, grpc.status.UNAVAILABLE, 'there is no raft leader right now; retry in a moment');
          return cb(null, { members: [], leaderAddr: leader.address });
        }
        const current = node.status().members.find((m) => m.id === id.nodeId);
        if (!current) await node.addMember(id.nodeId, call.request.addr, true);
        // Answer at once with the members, so the learner can dial the leader back; it is
        // promoted in the background once it has caught up.
        cb(null, members());
        if (!current?.voter) void promoteWhenCaughtUp(deps, id.nodeId, call.request.addr);
      })().catch(failWith(cb));
    },
    members: (call, cb) => {
      void (async () => {
        requireRole(call as never, ['manager'], { clusterId: deps.clusterId });
        if (!node.isLeader()) return fail(cb, grpc.status.UNAVAILABLE, 'not the leader: only the leader hears from every member');
        const status = node.status();
        cb(null, {
          members: status.members.map((m) => ({ id: m.id, addr: m.address, voter: m.voter, reachable: node.peerActive(m.id) === true })),
          leaderId: status.leader,
        });
      })().catch(failWith(cb));
    },
    leave: (call, cb) => {
      void (async () => {
        requireRole(call as never, ['manager'], { clusterId: deps.clusterId });
        await node.removeMember(call.request.nodeId);
        cb(null, {});
      })().catch(failWith(cb));
    },
  };
}
