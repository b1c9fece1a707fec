// RawNode: the host-facing API of the Raft core (like etcd's RawNode).
//
// The host loop, single-threaded:
//   on timer:          node.tick()
//   on network msg:    node.step(msg)
//   on client request: node.propose(data) / node.readIndex(ctx) / ...
//   while (node.hasReady()) {
//     const rd = node.ready();
//     persist rd.snapshot, rd.entries, rd.hardState (fsync if rd.mustSync);
//     send rd.messages (a 'snap' message may be chunked by the transport);
//     apply rd.snapshot, then rd.committedEntries (calling applyConfChange
//       for 'confChange' entries); serve rd.readStates once applied >= index;
//     node.advance(rd);
//   }
// Call advance(rd) before the next ready().
//
// With Config.leaderWritesAsync a leader's Ready may instead be advanced while its write
// is in flight (its messages sent at once; its committedEntries are always durable here
// already); the host reports each completed write with leaderPersisted(index, term).
// Non-leader Readys are persisted before anything else, as above.

import { encodeConfChange } from './confChange.js';
import { ConfigError, ProposalDroppedError } from './errors.js';
import { applyConfChange } from './membership.js';
import type { ProgressStateType } from './progress.js';
import { Raft } from './raft.js';
import { flushBcast } from './replication.js';
import { NONE } from './types.js';
import type { Config, ConfChange, ConfState, Entry, HardState, Message, NodeId, Ready, SoftState } from './types.js';
import { newMessage } from './util.js';

export interface ProgressStatus {
  match: number;
  next: number;
  state: ProgressStateType;
  recentActive: boolean;
  paused: boolean;
  inflight: number;
  isLearner: boolean;
  pendingSnapshot: number;
}

export interface Status {
  id: NodeId;
  hardState: HardState;
  softState: SoftState;
  applied: number;
  lastIndex: number;
  confState: ConfState;
  leadTransferee: NodeId;
  /** Only on the leader. */
  progress?: Record<NodeId, ProgressStatus>;
}

/** A peer of a new cluster; context is delivered with its addNode entry. */
export interface Peer {
  id: NodeId;
  context?: Uint8Array;
}

const LOCAL_ONLY = new Set(['hup', 'beat', 'unreachable', 'snapStatus', 'checkQuorum']);
const RESPONSES = new Set(['appResp', 'voteResp', 'preVoteResp', 'heartbeatResp', 'unreachable', 'snapStatus']);

export class RawNode {
  private readonly r: Raft;
  private prevSoftState: SoftState;
  private prevHardState: HardState;

  /** Starts (or restarts) a node from config.storage. A node joining an existing cluster starts with empty storage. */
  constructor(config: Config & { maxCommittedSizePerReady?: number }) {
    this.r = new Raft(config);
    this.prevSoftState = this.r.softState();
    this.prevHardState = this.r.hardState();
  }

  /**
   * Creates the first node(s) of a brand-new cluster. config.storage must be
   * empty. The initial voters become conf-change entries 1..n (addNode, term
   * 1), already committed: the first Ready persists them and hands them to
   * the host as committedEntries, whose applyConfChange calls are then
   * harmless repeats. Every initial member bootstraps with the same peers in
   * the same order (or only one does and the others join via addNode).
   */
  static bootstrap(config: Config & { maxCommittedSizePerReady?: number }, peers: ReadonlyArray<Peer | NodeId>): RawNode {
    if (peers.length === 0) throw new ConfigError('must provide at least one peer to bootstrap');
    const s = config.storage;
    const { hardState } = s.initialState();
    if (s.lastIndex() !== 0 || hardState.term !== 0 || hardState.commit !== 0) {
      throw new ConfigError('cannot bootstrap: storage is not empty');
    }
    const node = new RawNode(config);
    const r = node.r;
    r.becomeFollower(1, NONE);
    const ents: Entry[] = peers.map((p, i) => {
      const peer = typeof p === 'string' ? { id: p } : p;
      return { term: 1, index: i + 1, type: 'confChange', data: encodeConfChange({ type: 'addNode', nodeId: peer.id, context: peer.context }) };
    });
    r.raftLog.append(ents);
    r.raftLog.committed = ents.length;
    for (const p of peers) applyConfChange(r, { type: 'addNode', nodeId: typeof p === 'string' ? p : p.id });
    return node;
  }

  /** Advances the logical clock by one tick. */
  tick(): void {
    this.r.tick();
  }

  /**
   * Steps a message received from a peer. Local-only message types are
   * refused; answers from unknown peers and forwarded requests that can't be
   * served (no leader, transfer in progress...) are dropped silently — the
   * sender retries.
   */
  step(m: Message): void {
    if (LOCAL_ONLY.has(m.type)) throw new Error(`cannot step raft local message ${m.type}`);
    if (RESPONSES.has(m.type) && !this.r.trk.progress.has(m.from)) return;
    try {
      this.r.step(m);
    } catch (err) {
      if (!(err instanceof ProposalDroppedError)) throw err;
      this.r.logger.debug(`${this.r.id} dropped ${m.type} from ${m.from}: ${err.reason}`);
    }
  }

  /**
   * With Config.leaderWritesAsync: this node's log up to `index` (an entry of `term`) is
   * durable. A leader counts its own copy from then on; anyone else ignores it.
   */
  leaderPersisted(index: number, term: number): void {
    this.r.leaderPersisted(index, term);
  }

  /** Starts an election now (pre-vote first if enabled). */
  campaign(): void {
    this.r.step(newMessage('hup', { from: this.r.id }));
  }

  /** Proposes data to be appended. Throws ProposalDroppedError (no leader, transfer, uncommitted bound). */
  propose(data: Uint8Array): void {
    this.r.step(newMessage('prop', { from: this.r.id, entries: [{ term: 0, index: 0, type: 'normal', data }] }));
  }

  /**
   * Proposes a membership change. Throws ProposalDroppedError on a leader that
   * has an unapplied conf change or has not applied its election no-op yet; on
   * a follower it is forwarded (and turned into a no-op by the leader if refused).
   */
  proposeConfChange(cc: ConfChange): void {
    this.r.step(newMessage('prop', { from: this.r.id, entries: [{ term: 0, index: 0, type: 'confChange', data: encodeConfChange(cc) }] }));
  }

  /** Applies a committed conf change (host calls it while applying the entry); returns the new membership. */
  applyConfChange(cc: ConfChange): ConfState {
    return applyConfChange(this.r, cc);
  }

  /** Asks the leader to hand leadership to `to` (forwarded when called on a follower). */
  transferLeadership(to: NodeId): void {
    this.r.step(newMessage('transferLeader', { from: to }));
  }

  /**
   * Requests a linearizable read point. The answer arrives as a ReadState with
   * the same ctx (which must be unique per request) in a later Ready.
   */
  readIndex(ctx: Uint8Array): void {
    this.r.step(newMessage('readIndex', { context: ctx }));
  }

  /** Transport: the last message to `id` could not be delivered. */
  reportUnreachable(id: NodeId): void {
    this.r.step(newMessage('unreachable', { from: id }));
  }

  /**
   * Transport: the 'snap' message to `id` was delivered (ok) or failed. The
   * transport must report every 'snap' it was handed: until it does, the
   * leader sends that follower nothing but heartbeats.
   */
  reportSnapshot(id: NodeId, ok: boolean): void {
    this.r.step(newMessage('snapStatus', { from: id, reject: !ok }));
  }

  /** Whether ready() has work. Also flushes the append round coalesced since the last Ready. */
  hasReady(): boolean {
    const r = this.r;
    flushBcast(r);
    if (!softStateEqual(r.softState(), this.prevSoftState)) return true;
    const hs = r.hardState();
    if (!hardStateEqual(hs, this.prevHardState)) return true;
    if (r.raftLog.hasPendingSnapshot()) return true;
    if (r.msgs.length > 0 || r.readStates.length > 0) return true;
    if (r.raftLog.unstable.entries.length > 0) return true;
    return r.raftLog.hasNextEnts(this.applyLimit());
  }

  /**
   * The highest index the host may apply. With leaderWritesAsync a leader may commit entries
   * (through its followers) before its own write of them is done; it hands them out only
   * once that write is (its own match, leaderPersisted), so applied never runs ahead of its
   * durable log — which one-at-a-time membership changes rely on (pendingConfIndex). Anyone
   * else persists a Ready before applying it.
   */
  private applyLimit(): number {
    const r = this.r;
    if (!r.leaderWritesAsync || r.state !== 'leader') return Infinity;
    return r.trk.progress.get(r.id)?.match ?? Infinity;
  }

  /** Takes the pending work. Messages and readStates are handed over once; entries stay until advance(). */
  ready(): Ready {
    const r = this.r;
    flushBcast(r);
    const entries = r.raftLog.unstableEntries();
    const hs = r.hardState();
    const ss = r.softState();
    const rd: Ready = {
      entries,
      committedEntries: r.raftLog.nextEnts(this.applyLimit()),
      messages: r.msgs,
      readStates: r.readStates,
      mustSync: entries.length > 0 || hs.term !== this.prevHardState.term || hs.vote !== this.prevHardState.vote,
    };
    if (!softStateEqual(ss, this.prevSoftState)) {
      rd.softState = ss;
      this.prevSoftState = ss;
    }
    if (!hardStateEqual(hs, this.prevHardState)) {
      rd.hardState = hs;
      this.prevHardState = hs;
    }
    if (r.raftLog.unstable.snapshot) rd.snapshot = r.raftLog.unstable.snapshot;
    r.msgs = [];
    r.readStates = [];
    return rd;
  }

  /** The host persisted and applied rd. */
  advance(rd: Ready): void {
    const r = this.r;
    if (rd.entries.length > 0) {
      const last = rd.entries[rd.entries.length - 1];
      r.raftLog.stableTo(last.index, last.term);
    }
    if (rd.snapshot) r.raftLog.stableSnapTo(rd.snapshot.metadata.index);
    if (rd.committedEntries.length > 0) {
      r.raftLog.appliedTo(rd.committedEntries[rd.committedEntries.length - 1].index);
      r.reduceUncommittedSize(rd.committedEntries);
    } else if (rd.snapshot) {
      r.raftLog.appliedTo(rd.snapshot.metadata.index);
    }
  }

  status(): Status {
    const r = this.r;
    const st: Status = {
      id: r.id,
      hardState: r.hardState(),
      softState: r.softState(),
      applied: r.raftLog.applied,
      lastIndex: r.raftLog.lastIndex(),
      confState: r.trk.confState(),
      leadTransferee: r.leadTransferee,
    };
    if (r.state === 'leader') {
      const progress: Record<NodeId, ProgressStatus> = {};
      for (const [id, pr] of r.trk.progress) {
        progress[id] = {
          match: pr.match,
          next: pr.next,
          state: pr.state,
          recentActive: pr.recentActive,
          paused: pr.isPaused(),
          inflight: pr.inflights.length(),
          isLearner: pr.isLearner,
          pendingSnapshot: pr.pendingSnapshot,
        };
      }
      st.progress = progress;
    }
    return st;
  }
}

function softStateEqual(a: SoftState, b: SoftState): boolean {
  return a.lead === b.lead && a.state === b.state;
}

function hardStateEqual(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.vote === b.vote && a.commit === b.commit;
}
