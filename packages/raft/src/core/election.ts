// Leader election (§5.2), pre-vote (thesis §9.6) and leader-transfer campaigns
// (thesis §3.10).

import type { Raft } from './raft.js';
import { CAMPAIGN_TRANSFER } from './raft.js';
import { numPendingConfChanges } from './membership.js';
import { NONE } from './types.js';
import type { Message, MessageType } from './types.js';
import { newMessage } from './util.js';

export type CampaignType = 'preElection' | 'election' | 'transfer';

/** Starts an election unless we are leader, can't campaign, or have unapplied conf changes. */
export function hup(r: Raft, t: CampaignType): void {
  if (r.state === 'leader') {
    r.logger.debug(`${r.id} ignoring hup because already leader`);
    return;
  }
  if (!r.promotable()) {
    r.logger.warn(`${r.id} is unpromotable and can not campaign`);
    return;
  }
  // A committed-but-unapplied conf change may remove us or change the quorum:
  // wait until it is applied before campaigning.
  const pending = numPendingConfChanges(r);
  if (pending > 0) {
    r.logger.warn(`${r.id} cannot campaign at term ${r.term} since there are still ${pending} pending configuration changes to apply`);
    return;
  }
  r.logger.info(`${r.id} is starting a new election at term ${r.term}`);
  campaign(r, t);
}

function voteRespType(t: MessageType): MessageType {
  return t === 'vote' ? 'voteResp' : 'preVoteResp';
}

export function campaign(r: Raft, t: CampaignType): void {
  if (!r.promotable()) {
    r.logger.warn(`${r.id} is unpromotable; campaign() should have been called`);
    return;
  }
  let voteMsg: MessageType;
  let term: number;
  if (t === 'preElection') {
    r.becomePreCandidate();
    voteMsg = 'preVote';
    // Pre-vote asks about the next term without moving to it.
    term = r.term + 1;
  } else {
    r.becomeCandidate();
    voteMsg = 'vote';
    term = r.term;
  }
  // Our own vote first: a single-voter cluster wins right away.
  if (poll(r, r.id, true) === 'won') {
    if (t === 'preElection') campaign(r, 'election');
    else r.becomeLeader();
    return;
  }
  const lastIndex = r.raftLog.lastIndex();
  const lastTerm = r.raftLog.lastTerm();
  for (const id of r.trk.voters) {
    if (id === r.id) continue;
    r.logger.info(`${r.id} [logterm: ${lastTerm}, index: ${lastIndex}] sent ${voteMsg} request to ${id} at term ${r.term}`);
    r.send(newMessage(voteMsg, {
      to: id,
      term,
      index: lastIndex,
      logTerm: lastTerm,
      context: t === 'transfer' ? CAMPAIGN_TRANSFER : undefined,
    }));
  }
}

/** Records a vote and returns the election's state. */
export function poll(r: Raft, id: string, granted: boolean): 'pending' | 'won' | 'lost' {
  r.trk.recordVote(id, granted);
  return r.trk.tallyVotes().result;
}

/**
 * A vote or pre-vote request at a term >= ours (the term rules of step()
 * already ran). §5.2: at most one vote per term; §5.4.1: only for a log at
 * least as up-to-date as ours.
 */
export function handleVoteRequest(r: Raft, m: Message): void {
  const canVote =
    // repeat of a vote we already cast
    r.vote === m.from ||
    // we haven't voted and don't think there is a leader this term
    (r.vote === NONE && r.lead === NONE) ||
    // a pre-vote for a future term
    (m.type === 'preVote' && m.term > r.term);
  if (canVote && r.raftLog.isUpToDate(m.index, m.logTerm)) {
    r.logger.info(`${r.id} [term: ${r.term}] cast ${m.type} for ${m.from} [logterm: ${m.logTerm}, index: ${m.index}]`);
    // The answer carries the request's term: for a pre-vote, the candidate's
    // future term, so it is recognised as an answer to this round.
    r.send(newMessage(voteRespType(m.type), { to: m.from, term: m.term }));
    if (m.type === 'vote') {
      r.electionElapsed = 0;
      r.vote = m.from;
    }
  } else {
    r.logger.info(`${r.id} [term: ${r.term}] rejected ${m.type} from ${m.from} [logterm: ${m.logTerm}, index: ${m.index}]`);
    r.send(newMessage(voteRespType(m.type), { to: m.from, term: r.term, reject: true }));
  }
}

/** Candidate side: a vote answer for the current round. */
export function handleVoteResponse(r: Raft, m: Message): void {
  const res = poll(r, m.from, !m.reject);
  const { granted, rejected } = r.trk.tallyVotes();
  r.logger.info(`${r.id} has received ${granted} ${m.type} votes and ${rejected} vote rejections`);
  if (res === 'won') {
    if (r.state === 'preCandidate') {
      campaign(r, 'election');
    } else {
      r.becomeLeader();
    }
  } else if (res === 'lost') {
    // pre-candidate or candidate lost: back to follower at our current term
    r.becomeFollower(r.term, NONE);
  }
}
