// Membership changes, one server at a time (thesis §4.1). The host applies a
// committed 'confChange' entry by calling RawNode.applyConfChange(cc), which
// lands here. Safety rules enforced on the leader at proposal time (leader.ts):
// only one unapplied conf change, and none before the leader's election no-op
// is applied. Learners (thesis §4.2.1) get the log but neither vote nor count
// for quorum; addNode on a learner promotes it.

import { decodeConfChange } from './confChange.js';
import type { Raft } from './raft.js';
import { bcastHeartbeat, maybeSendAppend } from './replication.js';
import { NONE } from './types.js';
import type { ConfChange, ConfState } from './types.js';

export function applyConfChange(r: Raft, cc: ConfChange): ConfState {
  if (cc.nodeId === NONE) return r.trk.confState();
  const next = r.raftLog.lastIndex() + 1;
  const existing = r.trk.progress.get(cc.nodeId);
  switch (cc.type) {
    case 'addNode':
      if (existing && existing.isLearner) {
        r.logger.info(`${r.id} promotes learner ${cc.nodeId} to voter`);
      }
      r.trk.addMember(cc.nodeId, false, next);
      break;
    case 'addLearner':
      if (existing && !existing.isLearner) {
        r.logger.info(`${r.id} demotes voter ${cc.nodeId} to learner`);
      }
      r.trk.addMember(cc.nodeId, true, next);
      break;
    case 'removeNode':
      r.trk.removeMember(cc.nodeId);
      break;
  }
  r.isLearner = r.trk.learners.has(r.id);
  const cs = r.trk.confState();
  if (r.state !== 'leader') return cs;

  if (!r.trk.progress.has(r.id) || r.isLearner) {
    // The leader removed or demoted itself: tell followers the latest commit
    // index, then step down so a remaining voter takes over.
    r.logger.info(`${r.id} was removed or demoted; stepping down`);
    bcastHeartbeat(r, undefined);
    r.becomeFollower(r.term, NONE);
    return cs;
  }
  if (r.leadTransferee !== NONE && !r.trk.voters.has(r.leadTransferee)) {
    r.abortLeaderTransfer();
  }
  // The quorum may have shrunk: entries may now be committed.
  if (r.maybeCommit()) {
    r.bcastPending = true;
  } else {
    // Start replicating to a new member right away (a probe it will answer).
    for (const id of r.trk.progress.keys()) {
      if (id !== r.id) maybeSendAppend(r, id, id === cc.nodeId);
    }
  }
  return cs;
}

/** Number of committed-but-unapplied conf-change entries (checked before campaigning). */
export function numPendingConfChanges(r: Raft): number {
  const lo = Math.max(r.raftLog.applied + 1, r.raftLog.firstIndex());
  const hi = r.raftLog.committed + 1;
  if (lo >= hi) return 0;
  let n = 0;
  for (const e of r.raftLog.slice(lo, hi, Infinity)) {
    if (e.type === 'confChange') n++;
  }
  return n;
}

/** Decodes the ConfChange in a 'confChange' entry (for hosts applying entries). */
export function confChangeOf(data: Uint8Array): ConfChange {
  return decodeConfChange(data);
}
