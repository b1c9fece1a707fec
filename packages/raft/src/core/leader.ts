// Leader message handling: proposals, replication answers and flow control,
// heartbeats, check-quorum, leader transfer, ReadIndex.

import { ProposalDroppedError } from './errors.js';
import type { Raft } from './raft.js';
import { handleReadIndexAck, releasePendingReadIndexMessages, stepLeaderReadIndex } from './readIndex.js';
import { bcastHeartbeat, maybeSendAppend, sendAppend } from './replication.js';
import { NONE } from './types.js';
import type { Entry, Message } from './types.js';
import { newMessage } from './util.js';

export function stepLeader(r: Raft, m: Message): void {
  // Messages that need no progress of the sender.
  switch (m.type) {
    case 'beat':
      bcastHeartbeat(r, r.readOnly.lastPendingRequestCtx());
      return;
    case 'checkQuorum':
      // Thesis §6.2: a leader that did not hear from a quorum within an
      // election timeout steps down, so clients can find the real leader.
      if (!r.trk.quorumActive(r.id)) {
        r.logger.warn(`${r.id} stepped down to follower since quorum is not active`);
        r.becomeFollower(r.term, NONE);
      }
      for (const [id, pr] of r.trk.progress) pr.recentActive = id === r.id;
      return;
    case 'prop':
      stepProposal(r, m);
      return;
    case 'readIndex':
      stepLeaderReadIndex(r, m);
      return;
    default:
      break;
  }

  const pr = r.trk.progress.get(m.from);
  if (!pr) {
    r.logger.debug(`${r.id} no progress available for ${m.from}`);
    return;
  }
  switch (m.type) {
    case 'appResp':
      handleAppendResponse(r, m);
      return;
    case 'heartbeatResp':
      pr.recentActive = true;
      pr.msgAppFlowPaused = false;
      // A live follower with a full window: free one slot so replication
      // recovers if an 'app' or its answer was lost.
      if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirstOne();
      if (pr.match < r.raftLog.lastIndex() || pr.state === 'probe') sendAppend(r, m.from);
      handleReadIndexAck(r, m.from, m.context);
      return;
    case 'snapStatus':
      if (pr.state !== 'snapshot') return;
      if (m.reject) {
        // Failed: forget the snapshot; the next probe will ask again.
        pr.pendingSnapshot = 0;
        r.logger.debug(`${r.id} snapshot failed, resumed sending replication messages to ${m.from}`);
      } else {
        r.logger.debug(`${r.id} snapshot succeeded, resumed sending replication messages to ${m.from}`);
      }
      pr.becomeProbe();
      // Wait for a heartbeat answer (or appResp) before probing again.
      pr.msgAppFlowPaused = true;
      return;
    case 'unreachable':
      // The transport could not deliver: stop streaming optimistically.
      if (pr.state === 'replicate') pr.becomeProbe();
      r.logger.debug(`${r.id} failed to send message to ${m.from} because it is unreachable`);
      return;
    case 'transferLeader':
      stepTransferLeader(r, m);
      return;
    default:
      return;
  }
}

function stepProposal(r: Raft, m: Message): void {
  if (m.entries.length === 0) throw new Error(`${r.id} stepped empty prop`);
  if (!r.trk.progress.has(r.id)) {
    // Removed from the configuration while still leader (until it steps down).
    throw new ProposalDroppedError('leader was removed from the cluster');
  }
  if (r.leadTransferee !== NONE) {
    throw new ProposalDroppedError(`leadership transfer to ${r.leadTransferee} is in progress`);
  }
  const local = m.from === NONE || m.from === r.id;
  for (let i = 0; i < m.entries.length; i++) {
    const e = m.entries[i];
    if (e.type !== 'confChange') continue;
    if (r.pendingConfIndex > r.raftLog.applied) {
      // One membership change at a time, and only after the election no-op
      // is applied (thesis §4.1, and the safety fix of Ongaro's 2015 note).
      const reason = `possible unapplied conf change at index ${r.pendingConfIndex} (applied to ${r.raftLog.applied})`;
      if (local) throw new ProposalDroppedError(reason);
      // A forwarded one can't get an error back: turn it into a no-op.
      r.logger.info(`${r.id} ignoring forwarded conf change: ${reason}`);
      m.entries[i] = { term: 0, index: 0, type: 'normal', data: new Uint8Array(0) } satisfies Entry;
    } else {
      r.pendingConfIndex = r.raftLog.lastIndex() + i + 1;
    }
  }
  if (!r.appendEntry(m.entries)) {
    throw new ProposalDroppedError('too many uncommitted entries (maxUncommittedEntriesBytes); is a quorum reachable?');
  }
  r.bcastPending = true;
}

function handleAppendResponse(r: Raft, m: Message): void {
  const pr = r.trk.progress.get(m.from)!;
  pr.recentActive = true;
  if (m.reject) {
    // §5.3 log conflict: back off next; the hint skips a whole term at once.
    let nextProbe = m.rejectHint;
    if (m.logTerm > 0) nextProbe = r.raftLog.findConflictByTerm(m.rejectHint, m.logTerm).index;
    if (pr.maybeDecrTo(m.index, nextProbe)) {
      r.logger.debug(`${r.id} decreased progress of ${m.from} to next ${pr.next}`);
      if (pr.state === 'replicate') pr.becomeProbe();
      sendAppend(r, m.from);
    }
    return;
  }
  const oldPaused = pr.isPaused();
  if (!(pr.maybeUpdate(m.index) || (pr.match === m.index && pr.state === 'probe'))) return;
  if (pr.state === 'probe') {
    pr.becomeReplicate();
  } else if (pr.state === 'snapshot' && pr.match + 1 >= r.raftLog.firstIndex()) {
    // Caught up past the compaction point (snapshot applied, or entries arrived).
    pr.becomeProbe();
    pr.becomeReplicate();
  } else if (pr.state === 'replicate') {
    pr.inflights.freeLE(m.index);
  }

  if (r.maybeCommit()) {
    releasePendingReadIndexMessages(r);
    // Followers learn the new commit index with the next round.
    r.bcastPending = true;
  } else if (oldPaused) {
    sendAppend(r, m.from);
  }
  // Pipelining: send as much as the window allows.
  while (maybeSendAppend(r, m.from, false)) {
    // keep sending
  }
  if (m.from === r.leadTransferee && pr.match === r.raftLog.lastIndex()) {
    r.logger.info(`${r.id} sent timeoutNow to ${m.from} after it caught up`);
    sendTimeoutNow(r, m.from);
  }
}

/** Thesis §3.10 leadership transfer; m.from is the transferee. */
function stepTransferLeader(r: Raft, m: Message): void {
  const pr = r.trk.progress.get(m.from)!;
  const transferee = m.from;
  if (pr.isLearner) {
    r.logger.debug(`${r.id} is ignoring transferLeader to learner ${transferee}`);
    return;
  }
  const last = r.leadTransferee;
  if (last !== NONE) {
    if (last === transferee) {
      r.logger.info(`${r.id} [term ${r.term}] transfer leadership to ${transferee} is in progress, ignores request to same node`);
      return;
    }
    r.abortLeaderTransfer();
    r.logger.info(`${r.id} [term ${r.term}] abort previous transferring leadership to ${last}`);
  }
  if (transferee === r.id) {
    r.logger.debug(`${r.id} is already leader. Ignored transferring leadership to self`);
    return;
  }
  r.logger.info(`${r.id} [term ${r.term}] starts to transfer leadership to ${transferee}`);
  // The transfer must finish within one election timeout (tickHeartbeat aborts it).
  r.electionElapsed = 0;
  r.leadTransferee = transferee;
  if (pr.match === r.raftLog.lastIndex()) {
    sendTimeoutNow(r, transferee);
  } else {
    sendAppend(r, transferee);
  }
}

function sendTimeoutNow(r: Raft, to: string): void {
  r.send(newMessage('timeoutNow', { to }));
}
