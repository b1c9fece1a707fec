import * as grpc from '@grpc/grpc-js';
import { RaftJoinResponse, RaftMembershipServer } from '@tswarm/api';
import { requireRole } from '@tswarm/ca';
import type { RaftNode } from '@tswarm/raft';

/** A learner is promoted once it is within this many entries of the leader's log. */
export const CATCH_UP_SLACK_ENTRIES = 64;
/** How long a joining manager may take to catch up before the join is given up. */
export const CATCH_UP_TIMEOUT_MS = 60_000;
const CATCH_UP_POLL_MS = 50;

type Cb<T> = grpc.sendUnaryData<T>;
const fail = (cb: Cb<never>, code: grpc.status, details: string) => cb({ code, details } as grpc.ServiceError);

/**
 * RaftMembership on the cluster port, for managers only. A joining manager is added as a
 * learner (it receives the log but does not vote), and promoted to voter only once it
 * has caught up, so adding it never leaves the group waiting on a member that is behind.
 * A follower answers with the leader's address and the joiner asks there.
 */
export function raftMembershipService(deps: { node: RaftNode; clusterId: string }): RaftMembershipServer {
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
        if (current?.voter) return cb(null, members());
        if (!current) await node.addMember(id.nodeId, call.request.addr, true);
        const deadline = Date.now() + CATCH_UP_TIMEOUT_MS;
        for (;;) {
          const match = node.matchIndex(id.nodeId) ?? 0;
          if (match + CATCH_UP_SLACK_ENTRIES >= node.lastIndex()) break;
          if (Date.now() > deadline) {
            return fail(cb, grpc.status.DEADLINE_EXCEEDED, `manager ${id.nodeId} did not catch up with the raft log in time; check that ${call.request.addr} is reachable from the other managers`);
          }
          await new Promise((r) => setTimeout(r, CATCH_UP_POLL_MS));
        }
        await node.addMember(id.nodeId, call.request.addr, false);
        cb(null, members());
      })().catch((e: { code?: number; details?: string; message: string }) => fail(cb, e.code ?? grpc.status.UNAVAILABLE, e.details ?? e.message));
    },
    leave: (call, cb) => {
      void (async () => {
        requireRole(call as never, ['manager'], { clusterId: deps.clusterId });
        await node.removeMember(call.request.nodeId);
        cb(null, {});
      })().catch((e: { code?: number; details?: string; message: string }) => fail(cb, e.code ?? grpc.status.UNAVAILABLE, e.details ?? e.message));
    },
  };
}
