import { randomBytes } from 'node:crypto';
import type { Logger } from '@tswarm/api';
import { decodeConfChange } from '../core/confChange.js';
import { MemoryStorage } from '../core/memoryStorage.js';
import { RawNode } from '../core/rawNode.js';
import type { ConfChange, Entry, Message, NodeId, Snapshot, StateType } from '../core/types.js';
import type { Transport, TransportHandlers } from '../transport/transport.js';
import { unwrap, wrap } from './envelope.js';
import { decodeNodeSnapshot, encodeMemberContext } from './snapshot-codec.js';
import { OwnSnapshots } from './own-snapshots.js';
import { bootstrapEntries, Members } from './members.js';
import { ProposalWaiters, ReadWaiters } from './waiters.js';
import { ReadyHandler } from './ready-handler.js';
import { NotLeaderError, RaftTimeoutError, StoppedError } from './errors.js';
import { RaftNodeOptions, withDefaults, Resolved } from './options.js';
import type { RaftStatus } from './state-machine.js';

/**
 * The node loop: the one owner of a Raft core. It ticks the core, persists each Ready
 * through NodeStorage, sends its messages through the Transport, applies committed
 * entries to the StateMachine, and turns proposals and reads into promises.
 * All work happens on the event loop in `processReady`, scheduled at most once per turn,
 * so a burst of proposals becomes one Ready, one WAL write and one fsync (group commit).
 */
export class RaftNode {
  private readonly o: Resolved;
  private readonly mem = new MemoryStorage();
  private raw!: RawNode;
  private transport!: Transport;
  private readies!: ReadyHandler;
  private readonly members = new Members();
  private readonly proposals: ProposalWaiters;
  private readonly reads = new ReadWaiters();
  private readonly leaderListeners = new Set<(leader: NodeId, isLeader: boolean) => void>();
  private state: StateType = 'follower';
  private leader: NodeId = '';
  private applied = 0;
  private readonly snapshots: OwnSnapshots;
  private scheduled = false;
  /** True from ready() to advance(); core calls made meanwhile wait in `deferred`. */
  private inReady = false;
  private deferred: Array<() => void> = [];
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /**
   * The index of an applied entry that removed this node, unless a later applied entry
   * added it back. A re-added member (demoted, then promoted again) replays its own
   * removal from the log before the re-add: it stops only if, with everything known to
   * be committed applied, it is still removed.
   */
  private removedSelfAt: number | undefined;
  private readonly log: Logger;

  constructor(opts: RaftNodeOptions) {
    this.o = withDefaults(opts);
    this.log = this.o.logger;
    this.proposals = new ProposalWaiters(randomBytes(8).readBigUInt64BE());
    this.snapshots = new OwnSnapshots({
      mem: this.mem, storage: this.o.storage, stateMachine: this.o.stateMachine, members: this.members,
      interval: this.o.snapshotInterval, keepEntries: this.o.keepEntriesAfterSnapshot,
      stopped: () => this.stopped, failed: (e) => this.storageFailed(e),
    });
  }

  /**
   * Loads what storage recovered, bootstraps a brand-new group if there is nothing,
   * and starts ticking. Bootstrap writes the initial members as committed conf-change
   * entries (like etcd), so a restart rebuilds membership by replaying the log.
   */
  async start(): Promise<void> {
    const { hardState, snapshot, entries } = this.o.recovered;
    const fresh = !snapshot && entries.length === 0 && hardState.term === 0;
    if (snapshot) {
      this.mem.applySnapshot(snapshot);
      this.restoreSnapshot(snapshot);
    }
    if (fresh && this.o.bootstrap) {
      const boot = bootstrapEntries(this.o.bootstrap);
      const hs = { term: 1, vote: '', commit: boot.length };
      await this.o.storage.save(hs, boot, true);
      this.mem.append(boot);
      this.mem.setHardState(hs);
    } else {
      this.mem.setHardState(hardState);
      if (entries.length) this.mem.append(entries);
    }
    const hs = this.mem.initialState().hardState;
    this.raw = new RawNode({
      id: this.o.id,
      electionTick: this.o.electionTicks,
      heartbeatTick: this.o.heartbeatTicks,
      storage: this.mem,
      applied: this.applied,
      maxSizePerMsgBytes: this.o.maxSizePerMsgBytes,
      maxInflightMsgs: this.o.maxInflightMsgs,
      maxUncommittedEntriesBytes: this.o.maxUncommittedEntriesBytes,
      checkQuorum: true,
      preVote: true,
      leaderWritesAsync: this.o.leaderWritesAsync,
      rng: this.o.rng,
      logger: { debug: (m) => this.log.debug(m), info: (m) => this.log.info(m), warn: (m) => this.log.warn(m) },
    });
    this.transport = this.o.transport(this.handlers());
    for (const [id, addr] of Object.entries(this.o.peers ?? {})) if (id !== this.o.id) this.transport.addPeer(id, addr);
    for (const [id, addr] of this.members.entries()) if (id !== this.o.id) this.transport.addPeer(id, addr);
    this.readies = new ReadyHandler({
      mem: this.mem, storage: this.o.storage, transport: this.transport, reads: this.reads, log: this.log,
      leaderWritesAsync: this.o.leaderWritesAsync, savedTermVote: { term: hs.term, vote: hs.vote },
      applyEntry: (e) => this.applyEntry(e), applyCommitted: (es, from) => this.applyCommitted(es, from),
      restoreSnapshot: (s) => this.restoreSnapshot(s), failed: (e) => this.storageFailed(e),
      ownWriteDone: (index, term) => this.withCore(() => this.raw.leaderPersisted(index, term)),
    });
    this.timer = setInterval(() => this.tick(), this.o.tickMs);
    this.schedule();
  }

  /** Replicates `data`; resolves with its index once it is committed and applied here. */
  propose(data: Uint8Array): Promise<number> {
    if (this.stopped) return Promise.reject(new StoppedError());
    const { id, promise } = this.proposals.add(this.o.nowMs() + this.o.proposalTimeoutMs);
    this.withCore(() => {
      try {
        this.raw.propose(wrap(id, data));
      } catch (e) {
        this.proposals.fail(id, this.leader ? (e as Error) : new NotLeaderError(this.leader, this.members.get(this.leader)));
      }
    });
    return promise;
  }

  /** Resolves with an index once everything committed before the call is applied here (ReadIndex). */
  readIndex(): Promise<number> {
    if (this.stopped) return Promise.reject(new StoppedError());
    const p = this.reads.add(this.o.nowMs() + this.o.proposalTimeoutMs);
    this.schedule();
    return p;
  }

  /** Adds a member (as a learner first when `learner`), resolving once the change is applied. */
  addMember(id: NodeId, address: string, learner: boolean): Promise<void> {
    return this.changeMembers({ type: learner ? 'addLearner' : 'addNode', nodeId: id, context: encodeMemberContext(address) });
  }

  removeMember(id: NodeId): Promise<void> {
    return this.changeMembers({ type: 'removeNode', nodeId: id });
  }

  transferLeadership(to: NodeId): void {
    this.withCore(() => this.raw.transferLeadership(to));
  }

  onLeaderChange(listener: (leader: NodeId, isLeader: boolean) => void): () => void {
    this.leaderListeners.add(listener);
    return () => this.leaderListeners.delete(listener);
  }

  /** Lets the transport reach `id` before the log names it (a joining manager learns the members). */
  addPeerAddress(id: NodeId, address: string): void {
    if (id !== this.o.id && !this.members.has(id)) this.transport.addPeer(id, address);
  }

  /** Leader only: the highest log index known to be replicated on `id`, or undefined. */
  matchIndex(id: NodeId): number | undefined {
    return this.raw.status().progress?.[id]?.match;
  }

  /**
   * Whether `id` is heard from: the leader knows it from replication progress; a follower
   * knows only itself and the leader it hears; undefined when this node cannot tell.
   */
  peerActive(id: NodeId): boolean | undefined {
    if (id === this.o.id) return true;
    if (this.state === 'leader') return this.raw.status().progress?.[id]?.recentActive;
    if (id === this.leader) return true;
    return undefined;
  }

  /** The last index in this node's log. */
  lastIndex(): number {
    return this.raw.status().lastIndex;
  }

  isLeader(): boolean {
    return this.state === 'leader';
  }

  leaderAddress(): { id: NodeId; address: string | undefined } {
    return { id: this.leader, address: this.members.get(this.leader) };
  }

  status(): RaftStatus {
    const hs = this.raw.status().hardState;
    return {
      id: this.o.id, state: this.state, leader: this.leader, term: hs.term, commit: hs.commit, applied: this.applied,
      members: this.members.entries().map(([id, address]) => ({ id, address, voter: !this.members.isLearner(id) })),
    };
  }

  /** Stops ticking and the transport; pending proposals and reads fail with StoppedError. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.transport?.close();
    this.proposals.failAll(new StoppedError());
    this.reads.failAll(new StoppedError());
    void this.o.storage.close().catch(() => {});
  }

  private handlers(): TransportHandlers {
    return {
      onMessage: (m: Message) => this.step(m),
      onUnreachable: (peer) => this.withCore(() => this.raw.reportUnreachable(peer)),
      onSnapshotStatus: (peer, ok) => this.withCore(() => this.raw.reportSnapshot(peer, ok)),
    };
  }

  private step(m: Message): void {
    this.withCore(() => {
      try {
        this.raw.step(m);
      } catch (e) {
        this.log.debug('raft: message not stepped', { type: m.type, from: m.from, error: (e as Error).message });
      }
    });
  }

  /**
   * Runs `op` on the core now, or — while a Ready is being persisted — right after
   * advance(), so the core never changes between ready() and advance().
   */
  private withCore(op: () => void): void {
    if (this.stopped) return;
    if (this.inReady) this.deferred.push(op);
    else op();
    this.schedule();
  }

  private tick(): void {
    this.withCore(() => this.raw.tick());
    const now = this.o.nowMs();
    this.proposals.expire(now, () => new RaftTimeoutError('proposal'));
    this.reads.expire(now, () => new RaftTimeoutError('read'));
    this.schedule();
  }

  private changeMembers(cc: ConfChange): Promise<void> {
    if (this.stopped) return Promise.reject(new StoppedError());
    return new Promise((resolve, reject) => {
      this.withCore(() => {
        try {
          this.raw.proposeConfChange(cc);
        } catch (e) {
          reject(e as Error);
          return;
        }
        this.members.wait(cc, { resolve, reject });
      });
    });
  }

  private schedule(): void {
    if (this.scheduled || this.inReady || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.processReady();
    });
  }

  /**
   * One Ready at a time: persist, send, apply, advance. While the write is in flight,
   * new proposals and messages wait in `deferred`, so the next Ready carries all of
   * them in one write and one fsync (group commit).
   */
  private async processReady(): Promise<void> {
    if (this.stopped || this.inReady) return;
    this.inReady = true;
    try {
      for (;;) {
        const ctx = this.reads.takeRequest();
        if (ctx) {
          try {
            this.raw.readIndex(ctx);
          } catch {
            this.reads.failInFlight(new NotLeaderError(this.leader, this.members.get(this.leader)));
          }
        }
        if (!this.raw.hasReady()) break;
        const rd = this.raw.ready();
        if (rd.softState) this.leaderChanged(rd.softState.lead, rd.softState.state);
        await this.readies.handle(rd, this.state === 'leader');
        if (this.stopped) return;
        this.raw.advance(rd);
        this.runDeferred();
        // Checked after every Ready, not when the loop drains: under steady load it may not
        // drain for minutes, and the log would grow without a snapshot.
        this.snapshots.maybeTake(this.applied);
      }
    } catch (e) {
      this.storageFailed(e as Error);
    } finally {
      this.inReady = false;
    }
    // Callers resumed by this round's applies (promise continuations) may have queued
    // work after the loop's last check; run it now rather than at the next tick.
    if (this.deferred.length > 0) {
      this.runDeferred();
      this.schedule();
    }
  }

  private storageFailed(e: Error): void {
    if (this.stopped) return;
    this.log.error('raft: storage failed; stopping this raft member (restart tswarmd to recover from disk)', { error: e.message });
    this.stop();
  }

  private runDeferred(): void {
    const ops = this.deferred;
    this.deferred = [];
    for (const op of ops) op();
  }

  /** Applies committed entries from `from` on, then serves the reads waiting on them. */
  private applyCommitted(entries: readonly Entry[], from: number): void {
    for (let i = from; i < entries.length; i++) this.applyEntry(entries[i]!);
    this.reads.applied(this.applied);
    if (this.removedSelfAt !== undefined && this.applied >= this.raw.status().hardState.commit) {
      this.log.warn('this node was removed from the raft group; stopping raft', { index: this.removedSelfAt });
      this.stop();
    }
  }

  private applyEntry(e: Entry): void {
    if (e.type === 'confChange') {
      this.applyConfChange(decodeConfChange(e.data), e.index);
    } else if (e.data.length > 0) {
      const env = unwrap(e.data);
      this.o.stateMachine.apply(e.index, env ? env.payload : e.data);
      if (env) this.proposals.applied(env.id, e.index);
      this.applied = e.index;
      return;
    }
    this.o.stateMachine.advance?.(e.index);
    this.applied = e.index;
  }

  private applyConfChange(cc: ConfChange, index: number): void {
    const cs = this.raw.applyConfChange(cc);
    const change = this.members.applied(cc, cs);
    if (change.kind === 'remove') this.transport.removePeer(change.id);
    if (change.kind === 'add' && change.id !== this.o.id) this.transport.addPeer(change.id, change.address);
    this.log.info('raft membership changed', { change: cc.type, node: cc.nodeId, voters: cs.voters.join(','), learners: cs.learners.join(',') });
    if (cc.nodeId === this.o.id) this.removedSelfAt = cc.type === 'removeNode' ? index : undefined;
  }

  private leaderChanged(lead: NodeId, state: StateType): void {
    const changed = lead !== this.leader || state !== this.state;
    const wasLeader = this.state === 'leader';
    this.leader = lead;
    this.state = state;
    if (!changed) return;
    if (wasLeader !== (state === 'leader')) this.reads.retryInFlight();
    this.log.info('raft leadership', { leader: lead || 'none', state });
    for (const l of this.leaderListeners) l(lead, state === 'leader');
  }

  private restoreSnapshot(s: Snapshot): void {
    const { members, app } = decodeNodeSnapshot(s.data);
    this.members.restore(members, s.metadata.confState.learners);
    this.o.stateMachine.restore(app, s.metadata.index);
    this.applied = s.metadata.index;
    this.snapshots.restored(s.metadata.index);
    if (this.transport) for (const [id, addr] of members) if (id !== this.o.id) this.transport.addPeer(id, addr);
  }
}
