// Follower and (pre-)candidate message handling.

import { handleVoteResponse, hup } from './election.js';
import { ProposalDroppedError } from './errors.js';
import type { Raft } from './raft.js';
import { handleAppendEntries, handleHeartbeat, handleSnapshot } from './replication.js';
import { NONE } from './types.js';
import type { Message } from './types.js';

export function stepFollower(r: Raft, m: Message): void {
  switch (m.type) {
    case 'prop':
      // Proposal forwarding: a follower sends proposals on to the leader it knows.
      if (r.lead === NONE) throw new ProposalDroppedError(`no leader at term ${r.term}`);
      m.to = r.lead;
      r.send(m);
      return;
    case 'app':
      r.electionElapsed = 0;
      r.lead = m.from;
      handleAppendEntries(r, m);
      return;
    case 'heartbeat':
      r.electionElapsed = 0;
      r.lead = m.from;
      handleHeartbeat(r, m);
      return;
    case 'snap':
      r.electionElapsed = 0;
      r.lead = m.from;
      handleSnapshot(r, m);
      return;
    case 'transferLeader':
      if (r.lead === NONE) throw new ProposalDroppedError(`no leader at term ${r.term}; cannot transfer leadership`);
      m.to = r.lead;
      r.send(m);
      return;
    case 'timeoutNow':
      // Leader transfer (thesis §3.10): campaign at once, skipping pre-vote;
      // the vote requests carry CAMPAIGN_TRANSFER so voters ignore their lease.
      r.logger.info(`${r.id} [term ${r.term}] received timeoutNow from ${m.from} and starts an election to get leadership`);
      hup(r, 'transfer');
      return;
    case 'readIndex':
      if (r.lead === NONE) throw new ProposalDroppedError(`no leader at term ${r.term}; cannot serve read index`);
      m.to = r.lead;
      r.send(m);
      return;
    case 'readIndexResp':
      r.readStates.push({ index: m.index, requestCtx: m.context ?? new Uint8Array(0) });
      return;
    default:
      return;
  }
}

export function stepCandidate(r: Raft, m: Message): void {
  const myVoteResp = r.state === 'preCandidate' ? 'preVoteResp' : 'voteResp';
  switch (m.type) {
    case 'prop':
      throw new ProposalDroppedError(`no leader at term ${r.term} (election in progress)`);
    case 'readIndex':
      throw new ProposalDroppedError(`no leader at term ${r.term} (election in progress); cannot serve read index`);
    case 'transferLeader':
      throw new ProposalDroppedError(`no leader at term ${r.term}; cannot transfer leadership`);
    case 'app':
      // A leader of our term exists (§5.2): follow it.
      r.becomeFollower(m.term, m.from);
      handleAppendEntries(r, m);
      return;
    case 'heartbeat':
      r.becomeFollower(m.term, m.from);
      handleHeartbeat(r, m);
      return;
    case 'snap':
      r.becomeFollower(m.term, m.from);
      handleSnapshot(r, m);
      return;
    case 'voteResp':
    case 'preVoteResp':
      if (m.type === myVoteResp) handleVoteResponse(r, m);
      return;
    default:
      return;
  }
}
