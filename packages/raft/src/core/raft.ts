// Raft: the consensus state machine (Ongaro & Ousterhout, "In Search of an
// Understandable Consensus Algorithm", and Ongaro's thesis). Deterministic:
// input = step(message) and tick(); output = this.msgs, the log's unstable
// and committed entries, readStates. RawNode packages the output as Ready.
//
// This file holds the state, role transitions, ticking and the term rules of
// step(); the per-role handlers live in election.ts, leader.ts, follower.ts,
// replication.ts and membership.ts as functions over a Raft.

import { hup, handleVoteRequest } from './election.js';
import { ConfigError } from './errors.js';
import { stepLeader } from './leader.js';
import { releasePendingReadIndexMessages } from './readIndex.js';
import { stepCandidate, stepFollower } from './follower.js';
import { ReadOnly } from './readOnly.js';
import { RaftLog } from './raftLog.js';
import { ProgressTracker } from './tracker.js';
import { NONE } from './types.js';
import type { Config, ConfState, Entry, HardState, Logger, Message, NodeId, ReadState, SoftState, StateType } from './types.js';
import { bytesEqual, newMessage, payloadSize } from './util.js';

/** Context of vote requests sent on leader transfer: voters skip the lease check for them. */
export const CAMPAIGN_TRANSFER = new TextEncoder().encode('CampaignTransfer');

const silentLogger: Logger = { debug() {}, info() {}, warn() {} };

export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId = NONE;
  readonly raftLog: RaftLog;
  readonly trk: ProgressTracker;
  state: StateType = 'follower';
  /** This node is a learner in its current configuration: it never campaigns. */
  isLearner = false;
  lead: NodeId = NONE;
  /** Leader: the node leadership is being transferred to (proposals are refused meanwhile). */
  leadTransferee: NodeId = NONE;
  /**
   * Leader: index of the latest conf change (or of the election no-op). A new
   * conf change is refused until applied >= pendingConfIndex: one change at a
   * time, and none before an entry of this term is committed.
   */
  pendingConfIndex = 0;
  /** Leader: payload bytes of entries appended but not yet committed. */
  uncommittedSize = 0;
  readOnly = new ReadOnly();
  /** Leader: ReadIndex requests held until an entry of this term commits. */
  pendingReadIndexMessages: Message[] = [];
  /** Leader: an 'app' round is owed to followers (coalesced until the next Ready). */
  bcastPending = false;

  /** Ticks since the last election timeout (leader/follower) or heartbeat from the leader. */
  electionElapsed = 0;
  /** Leader: ticks since the last heartbeat round. */
  heartbeatElapsed = 0;
  /** In [electionTimeout, 2*electionTimeout); re-drawn on every role change. */
  randomizedElectionTimeout = 0;

  readonly checkQuorum: boolean;
  readonly preVote: boolean;
  readonly heartbeatTimeout: number;
  readonly electionTimeout: number;
  readonly maxMsgSize: number;
  readonly maxUncommittedSize: number;
  readonly leaderWritesAsync: boolean;
  readonly logger: Logger;
  private readonly rng: () => number;

  /** Outgoing messages, taken by RawNode.ready(). */
  msgs: Message[] = [];
  readStates: ReadState[] = [];

  constructor(c: Config & { maxCommittedSizePerReady?: number }) {
    validateConfig(c);
    this.id = c.id;
    this.checkQuorum = c.checkQuorum;
    this.preVote = c.preVote;
    this.heartbeatTimeout = c.heartbeatTick;
    this.electionTimeout = c.electionTick;
    this.maxMsgSize = c.maxSizePerMsgBytes;
    this.maxUncommittedSize = c.maxUncommittedEntriesBytes > 0 ? c.maxUncommittedEntriesBytes : Infinity;
    this.leaderWritesAsync = c.leaderWritesAsync ?? false;
    this.logger = c.logger ?? silentLogger;
    this.rng = c.rng;
    this.raftLog = new RaftLog(c.storage, this.logger, c.maxCommittedSizePerReady ?? Infinity);
    this.trk = new ProgressTracker(c.maxInflightMsgs);

    const { hardState, confState } = c.storage.initialState();
    this.applyConfState(confState);
    if (hardState.term !== 0 || hardState.vote !== NONE || hardState.commit !== 0) this.loadState(hardState);
    if (c.applied > 0) this.raftLog.appliedTo(c.applied);
    this.becomeFollower(this.term, NONE);
    this.logger.info(
      `newRaft ${this.id} [voters: (${[...this.trk.voters].join(',')}), learners: (${[...this.trk.learners].join(',')}), ` +
        `term: ${this.term}, commit: ${this.raftLog.committed}, applied: ${this.raftLog.applied}, ` +
        `lastindex: ${this.raftLog.lastIndex()}, lastterm: ${this.raftLog.lastTerm()}]`,
    );
  }

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.raftLog.committed };
  }

  softState(): SoftState {
    return { lead: this.lead, state: this.state };
  }

  private loadState(hs: HardState): void {
    if (hs.commit < this.raftLog.committed || hs.commit > this.raftLog.lastIndex()) {
      throw new ConfigError(`${this.id} state.commit ${hs.commit} is out of range [${this.raftLog.committed}, ${this.raftLog.lastIndex()}]`);
    }
    this.raftLog.committed = hs.commit;
    this.term = hs.term;
    this.vote = hs.vote;
  }

  /** Replaces the whole membership (at startup and on snapshot restore). */
  applyConfState(cs: ConfState): void {
    for (const id of [...this.trk.progress.keys()]) this.trk.removeMember(id);
    const next = this.raftLog.lastIndex() + 1;
    for (const id of cs.voters) this.trk.addMember(id, false, next);
    for (const id of cs.learners) this.trk.addMember(id, true, next);
    this.isLearner = this.trk.learners.has(this.id);
    const self = this.trk.progress.get(this.id);
    if (self) self.match = next - 1;
  }

  /** Queues m for sending; fills from and (for all but vote traffic, props and reads) term. */
  send(m: Message): void {
    if (m.from === NONE) m.from = this.id;
    if (m.type === 'vote' || m.type === 'voteResp' || m.type === 'preVote' || m.type === 'preVoteResp') {
      // Vote traffic carries the term it is about (the future term for pre-votes).
      if (m.term === 0) throw new Error(`term should be set when sending ${m.type}`);
    } else {
      if (m.term !== 0) throw new Error(`term should not be set when sending ${m.type} (was ${m.term})`);
      // A forwarded proposal or read is a local message to the leader: no term.
      if (m.type !== 'prop' && m.type !== 'readIndex') m.term = this.term;
    }
    this.msgs.push(m);
  }

  // ---- role transitions (§5.2) ----

  private reset(term: number): void {
    if (this.term !== term) {
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.abortLeaderTransfer();
    this.trk.resetVotes();
    const last = this.raftLog.lastIndex();
    for (const [id, pr] of this.trk.progress) {
      pr.becomeProbe();
      pr.match = id === this.id ? last : 0;
      pr.next = last + 1;
      pr.recentActive = false;
    }
    this.pendingConfIndex = 0;
    this.uncommittedSize = 0;
    this.readOnly = new ReadOnly();
    this.pendingReadIndexMessages = [];
    this.bcastPending = false;
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.lead = lead;
    this.state = 'follower';
    this.logger.info(`${this.id} became follower at term ${this.term}`);
  }

  becomeCandidate(): void {
    if (this.state === 'leader') throw new Error('invalid transition [leader -> candidate]');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.state = 'candidate';
    this.logger.info(`${this.id} became candidate at term ${this.term}`);
  }

  /** Pre-vote (thesis §9.6): ask for votes for term+1 without changing term or vote. */
  becomePreCandidate(): void {
    if (this.state === 'leader') throw new Error('invalid transition [leader -> pre-candidate]');
    this.trk.resetVotes();
    this.lead = NONE;
    this.state = 'preCandidate';
    this.logger.info(`${this.id} became pre-candidate at term ${this.term}`);
  }

  becomeLeader(): void {
    if (this.state === 'follower') throw new Error('invalid transition [follower -> leader]');
    this.reset(this.term);
    this.lead = this.id;
    this.state = 'leader';
    const self = this.trk.progress.get(this.id);
    if (self) {
      self.becomeReplicate();
      self.recentActive = true;
    }
    // §8 / thesis §6.4: append a no-op of our term so earlier entries commit
    // and ReadIndex can be served. Conf changes wait until it is applied
    // (thesis §4.1 safety fix: commit an entry of the current term first).
    const empty: Entry = { term: 0, index: 0, type: 'normal', data: new Uint8Array(0) };
    if (!this.appendEntry([empty])) throw new Error('empty entry was dropped');
    this.pendingConfIndex = this.raftLog.lastIndex();
    this.bcastPending = true;
    this.logger.info(`${this.id} became leader at term ${this.term}`);
  }

  resetRandomizedElectionTimeout(): void {
    this.randomizedElectionTimeout = this.electionTimeout + Math.floor(this.rng() * this.electionTimeout);
  }

  pastElectionTimeout(): boolean {
    return this.electionElapsed >= this.randomizedElectionTimeout;
  }

  /** Can campaign: a voter in its config, with no snapshot waiting to be persisted. */
  promotable(): boolean {
    const pr = this.trk.progress.get(this.id);
    return pr !== undefined && !pr.isLearner && !this.raftLog.hasPendingSnapshot();
  }

  abortLeaderTransfer(): void {
    this.leadTransferee = NONE;
  }

  // ---- time ----

  tick(): void {
    if (this.state === 'leader') this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.pastElectionTimeout()) {
      this.electionElapsed = 0;
      this.step(newMessage('hup', { from: this.id }));
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.electionTimeout) {
      this.electionElapsed = 0;
      if (this.checkQuorum) this.step(newMessage('checkQuorum', { from: this.id }));
      // Leader transfer did not finish within an election timeout: give up (thesis §3.10).
      if (this.state === 'leader' && this.leadTransferee !== NONE) this.abortLeaderTransfer();
    }
    if (this.state !== 'leader') return;
    if (this.heartbeatElapsed >= this.heartbeatTimeout) {
      this.heartbeatElapsed = 0;
      this.step(newMessage('beat', { from: this.id }));
    }
  }

  // ---- step: term rules (§5.1), then per-role handling ----

  step(m: Message): void {
    if (m.term === 0) {
      // local message (or forwarded prop/readIndex)
    } else if (m.term > this.term) {
      if (m.type === 'vote' || m.type === 'preVote') {
        const force = bytesEqual(m.context, CAMPAIGN_TRANSFER);
        const inLease = this.checkQuorum && this.lead !== NONE && this.electionElapsed < this.electionTimeout;
        if (!force && inLease) {
          // Thesis §4.2.3: a server that heard from a current leader within the
          // minimum election timeout ignores vote requests; removed or
          // partitioned servers cannot disrupt the cluster.
          this.logger.info(`${this.id} [term: ${this.term}] ignored ${m.type} from ${m.from} [term: ${m.term}]: lease is not expired`);
          return;
        }
      }
      if (m.type === 'preVote') {
        // Never change our term in response to a pre-vote.
      } else if (m.type === 'preVoteResp' && !m.reject) {
        // The term in a granted pre-vote answer is the one we will campaign for.
      } else {
        this.logger.info(`${this.id} [term: ${this.term}] received a ${m.type} with higher term from ${m.from} [term: ${m.term}]`);
        const fromLeader = m.type === 'app' || m.type === 'heartbeat' || m.type === 'snap';
        if (fromLeader) {
          this.becomeFollower(m.term, m.from);
        } else {
          // §5.2 (Figure 2): only a current leader's AppendEntries or a granted
          // vote restarts the election timer. Keeping it here matters: a server
          // with the most up-to-date log that keeps rejecting higher-term vote
          // requests must still time out and campaign, or elections livelock.
          const elapsed = this.state === 'leader' ? 0 : this.electionElapsed;
          this.becomeFollower(m.term, NONE);
          this.electionElapsed = elapsed;
        }
      }
    } else if (m.term < this.term) {
      if ((this.checkQuorum || this.preVote) && (m.type === 'heartbeat' || m.type === 'app')) {
        // A stale leader (e.g. back from a partition) learns our term from this
        // answer and steps down; without it, with check-quorum/pre-vote it could
        // never learn it, and we would never hear a higher-term vote either.
        this.send(newMessage('appResp', { to: m.from }));
      } else if (m.type === 'preVote' || m.type === 'vote') {
        // §5.1: the answer carries our term so a candidate that fell behind
        // (e.g. after restarts) catches up; ignoring it could starve the only
        // candidate with an up-to-date log.
        this.send(newMessage(m.type === 'vote' ? 'voteResp' : 'preVoteResp', { to: m.from, term: this.term, reject: true }));
      } else {
        this.logger.debug(`${this.id} [term: ${this.term}] ignored a ${m.type} from ${m.from} [term: ${m.term}]`);
      }
      return;
    }

    switch (m.type) {
      case 'hup':
        hup(this, this.preVote ? 'preElection' : 'election');
        return;
      case 'vote':
      case 'preVote':
        handleVoteRequest(this, m);
        return;
      default:
        if (this.state === 'leader') stepLeader(this, m);
        else if (this.state === 'follower') stepFollower(this, m);
        else stepCandidate(this, m);
    }
  }

  // ---- log appends and commit (leader) ----

  /** Appends entries of this term to the leader's log. False if the uncommitted bound drops them. */
  appendEntry(es: Entry[]): boolean {
    let li = this.raftLog.lastIndex();
    for (let i = 0; i < es.length; i++) {
      es[i].term = this.term;
      es[i].index = li + 1 + i;
    }
    if (!this.increaseUncommittedSize(es)) {
      this.logger.warn(`${this.id} appending new entries to log would exceed uncommitted entry size limit; dropping proposal`);
      return false;
    }
    li = this.raftLog.append(es);
    // With leaderWritesAsync the leader counts its copy in leaderPersisted(), once durable.
    if (this.leaderWritesAsync) return true;
    // The leader counts its own (soon persisted) copy; the host persists before
    // applying, and before sending anything but this Ready's appends (thesis §10.2.1).
    this.trk.progress.get(this.id)?.maybeUpdate(li);
    // The leader's match is the highest of all, so its own ack can move the
    // quorum index only when it is the sole voter.
    if (this.trk.isSingleton()) this.maybeCommit();
    return true;
  }

  /**
   * leaderWritesAsync: the host's report that this node's log up to `index`, whose entry
   * has `term`, is durable. Counted only while it leads and its log still holds that entry
   * (an entry is unique by index and term, and the log before it with it): a report from
   * an earlier term, or about entries since replaced, counts nothing it should not.
   */
  leaderPersisted(index: number, term: number): void {
    if (this.state !== 'leader' || this.raftLog.zeroTermOnErr(index) !== term) return;
    if (!this.trk.progress.get(this.id)?.maybeUpdate(index)) return;
    if (this.maybeCommit()) {
      releasePendingReadIndexMessages(this);
      // Followers learn the new commit index with the next round.
      this.bcastPending = true;
    }
  }

  /** Advances commit to the quorum's match index if that entry is of our term (§5.4.2). */
  maybeCommit(): boolean {
    return this.raftLog.maybeCommit(this.trk.committed(), this.term);
  }

  committedEntryInCurrentTerm(): boolean {
    return this.raftLog.zeroTermOnErr(this.raftLog.committed) === this.term;
  }

  /**
   * Uncommitted bound: refuse entries once the uncommitted tail exceeds the
   * limit (a leader without quorum must not grow its log forever). A single
   * entry is always accepted when nothing is outstanding, so a large proposal
   * can't wedge the leader.
   */
  private increaseUncommittedSize(ents: Entry[]): boolean {
    const s = payloadSize(ents);
    if (this.uncommittedSize > 0 && s > 0 && this.uncommittedSize + s > this.maxUncommittedSize) return false;
    this.uncommittedSize += s;
    return true;
  }

  reduceUncommittedSize(ents: Entry[]): void {
    if (this.uncommittedSize === 0) return;
    const s = payloadSize(ents);
    this.uncommittedSize = s > this.uncommittedSize ? 0 : this.uncommittedSize - s;
  }
}

function validateConfig(c: Config): void {
  if (c.id === NONE) throw new ConfigError('cannot use none as id');
  if (!(c.heartbeatTick > 0)) throw new ConfigError('heartbeat tick must be greater than 0');
  if (!(c.electionTick > c.heartbeatTick)) throw new ConfigError('election tick must be greater than heartbeat tick');
  if (!(c.maxInflightMsgs > 0)) throw new ConfigError('max inflight messages must be greater than 0');
  if (!(c.maxSizePerMsgBytes >= 0)) throw new ConfigError('max size per message must be >= 0');
  if (typeof c.rng !== 'function') throw new ConfigError('rng must be a function returning [0, 1)');
}
