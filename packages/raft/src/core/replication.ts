// Log replication (§5.3): the leader's sending side, with flow control, and
// the follower's handling of 'app', 'heartbeat' and 'snap'.
//
// Snapshots go out whole in one 'snap' message; the transport chunks them on
// the wire (InstallSnapshot in pieces, thesis §5.4.2) and reassembles them
// before stepping the message in. The core never sees chunks.

import { CompactedError, SnapshotTemporarilyUnavailableError, UnavailableError } from './errors.js';
import type { Raft } from './raft.js';
import type { Entry, Message, NodeId, Snapshot } from './types.js';
import { newMessage } from './util.js';

/**
 * Sends an 'app' (or a 'snap' if the entries it needs are compacted) to `to`
 * if flow control allows. With sendIfEmpty, an empty 'app' still goes out (to
 * carry the commit index or probe). With commitRound (the round that tells
 * followers a new commit index), an empty 'app' to a follower whose answer for
 * everything it covers is already known or in flight is marked commitOnly: the
 * follower answers it only if it rejects. Returns whether a message was sent.
 */
export function maybeSendAppend(r: Raft, to: NodeId, sendIfEmpty: boolean, commitRound = false): boolean {
  const pr = r.trk.progress.get(to);
  if (!pr || pr.isPaused()) return false;
  const prevIndex = pr.next - 1;
  const prevTerm = r.raftLog.term(prevIndex);
  let ents: Entry[] | undefined;
  if (prevTerm !== undefined) {
    try {
      ents = r.raftLog.entries(pr.next, r.maxMsgSize);
    } catch (err) {
      if (!(err instanceof CompactedError || err instanceof UnavailableError)) throw err;
    }
    if (ents !== undefined && ents.length === 0 && !sendIfEmpty) return false;
  }
  if (prevTerm === undefined || ents === undefined) return sendSnapshot(r, to);

  r.send(newMessage('app', {
    to,
    index: prevIndex,
    logTerm: prevTerm,
    entries: ents,
    commit: r.raftLog.committed,
    // Liveness does not rest on this answer: a follower that lags behind `match` gets an
    // unmarked 'app' (which it answers) on its next heartbeat answer, and rejections are
    // always answered. In probe state the answer is what unpauses the follower: never marked.
    commitOnly: commitRound && ents.length === 0 && pr.state === 'replicate' && (pr.match >= prevIndex || pr.inflights.length() > 0),
  }));
  pr.sentEntries(ents.length, ents.length > 0 ? ents[ents.length - 1].index : prevIndex);
  return true;
}

function sendSnapshot(r: Raft, to: NodeId): boolean {
  const pr = r.trk.progress.get(to)!;
  if (!pr.recentActive) {
    r.logger.debug(`ignore sending snapshot to ${to} since it is not recently active`);
    return false;
  }
  let snap: Snapshot;
  try {
    snap = r.raftLog.snapshot();
  } catch (err) {
    if (err instanceof SnapshotTemporarilyUnavailableError) {
      r.logger.debug(`${r.id} failed to send snapshot to ${to} because snapshot is temporarily unavailable`);
      return false;
    }
    throw err;
  }
  if (snap.metadata.index === 0) throw new Error('need non-empty snapshot');
  r.logger.info(`${r.id} [firstindex: ${r.raftLog.firstIndex()}, commit: ${r.raftLog.committed}] sent snapshot[index: ${snap.metadata.index}, term: ${snap.metadata.term}] to ${to}`);
  pr.becomeSnapshot(snap.metadata.index);
  r.send(newMessage('snap', { to, snapshot: snap }));
  return true;
}

export function sendAppend(r: Raft, to: NodeId): void {
  maybeSendAppend(r, to, true);
}

/** Sends 'app' to every follower and learner; see maybeSendAppend for commitRound. */
export function bcastAppend(r: Raft, commitRound = false): void {
  for (const id of r.trk.progress.keys()) {
    if (id !== r.id) maybeSendAppend(r, id, true, commitRound);
  }
}

/**
 * Leader: delivers the 'app' round owed since the last flush (new entries
 * and/or a new commit index), so a burst of proposals between two Ready
 * calls leaves as one batch per follower.
 */
export function flushBcast(r: Raft): void {
  if (!r.bcastPending) return;
  r.bcastPending = false;
  if (r.state === 'leader') bcastAppend(r, true);
}

export function sendHeartbeat(r: Raft, to: NodeId, ctx: Uint8Array | undefined): void {
  // The follower may not have the leader's whole committed prefix yet: never
  // tell it to commit past what it matches.
  const pr = r.trk.progress.get(to);
  const commit = Math.min(pr ? pr.match : 0, r.raftLog.committed);
  r.send(newMessage('heartbeat', { to, commit, context: ctx }));
}

export function bcastHeartbeat(r: Raft, ctx: Uint8Array | undefined): void {
  for (const id of r.trk.progress.keys()) {
    if (id !== r.id) sendHeartbeat(r, id, ctx);
  }
}

// ---- follower side ----

/** §5.3 AppendEntries receiver. */
export function handleAppendEntries(r: Raft, m: Message): void {
  if (m.index < r.raftLog.committed) {
    // Everything up to committed is already known to match.
    r.send(newMessage('appResp', { to: m.from, index: r.raftLog.committed }));
    return;
  }
  const lastNew = r.raftLog.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
  if (lastNew !== undefined) {
    // The leader marked it: it holds (or awaits) our answer for everything up to m.index.
    if (m.commitOnly && m.entries.length === 0) return;
    r.send(newMessage('appResp', { to: m.from, index: lastNew }));
    return;
  }
  // Reject, with a hint: the largest index <= m.index whose term is <= m.logTerm
  // lets the leader skip a whole conflicting term in one round trip.
  const hintIndex = Math.min(m.index, r.raftLog.lastIndex());
  const hint = r.raftLog.findConflictByTerm(hintIndex, m.logTerm);
  r.logger.debug(`${r.id} [logterm: ${r.raftLog.zeroTermOnErr(m.index)}, index: ${m.index}] rejected app [logterm: ${m.logTerm}, index: ${m.index}] from ${m.from}`);
  r.send(newMessage('appResp', {
    to: m.from,
    index: m.index,
    reject: true,
    rejectHint: hint.index,
    logTerm: hint.term,
  }));
}

export function handleHeartbeat(r: Raft, m: Message): void {
  r.raftLog.commitTo(m.commit);
  r.send(newMessage('heartbeatResp', { to: m.from, context: m.context }));
}

/** InstallSnapshot receiver (§7). */
export function handleSnapshot(r: Raft, m: Message): void {
  const s = m.snapshot;
  if (!s) return;
  if (restore(r, s)) {
    r.logger.info(`${r.id} [commit: ${r.raftLog.committed}] restored snapshot [index: ${s.metadata.index}, term: ${s.metadata.term}]`);
    r.send(newMessage('appResp', { to: m.from, index: r.raftLog.lastIndex() }));
  } else {
    r.logger.info(`${r.id} [commit: ${r.raftLog.committed}] ignored snapshot [index: ${s.metadata.index}, term: ${s.metadata.term}]`);
    r.send(newMessage('appResp', { to: m.from, index: r.raftLog.committed }));
  }
}

/** Returns false when the snapshot is stale or our log already has it. */
function restore(r: Raft, s: Snapshot): boolean {
  if (s.metadata.index <= r.raftLog.committed) return false;
  if (r.state !== 'follower') {
    // Only a leader of this term sends snapshots; we should already follow it.
    r.logger.warn(`${r.id} attempted to restore snapshot as ${r.state}; should never happen`);
    r.becomeFollower(r.term + 1, '');
    return false;
  }
  const cs = s.metadata.confState;
  if (!cs.voters.includes(r.id) && !cs.learners.includes(r.id)) {
    // A node added after the snapshot was taken: accept it, our membership
    // arrives with the conf-change entries that follow.
    r.logger.info(`${r.id} restoring snapshot that does not contain us [voters: ${cs.voters.join(',')}]`);
  }
  if (r.raftLog.matchTerm(s.metadata.index, s.metadata.term)) {
    // We have the entry: just fast-forward commit.
    r.logger.info(`${r.id} fast-forwarded commit to snapshot [index: ${s.metadata.index}, term: ${s.metadata.term}]`);
    r.raftLog.commitTo(s.metadata.index);
    return false;
  }
  r.raftLog.restore(s);
  r.applyConfState(cs);
  return true;
}
