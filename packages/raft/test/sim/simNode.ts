// One simulated Raft member: the real RawNode, a live MemoryStorage it reads,
// a SimDisk holding what survives a crash, and the KV state machine. It runs
// the host loop of rawNode.ts (persist → send → apply → advance) synchronously
// after every input, so the durable state never lags what was sent — except,
// in seeds with leaderWritesAsync, a leader's writes: written at once but synced
// only some milliseconds later (an event of their own), as RaftNode lets them run
// beside its loop; a crash meanwhile loses them.

import { decodeConfChange } from '../../src/core/confChange.js';
import { ProposalDroppedError } from '../../src/core/errors.js';
import type { MemoryStorage } from '../../src/core/memoryStorage.js';
import { RawNode } from '../../src/core/rawNode.js';
import type { ConfChange, ConfState, Entry, HardState, Message, NodeId, Ready, StateType } from '../../src/core/types.js';
import { type SafetyChecker } from './invariants.js';
import { decodePut, decodeReadCtx, encodeReadCtx, KvStateMachine, type PutCommand } from './kvStateMachine.js';
import type { Rng } from './rng.js';
import type { NodeDisk } from './simDisk.js';
import type { Trace } from './trace.js';

export interface NodeEnv {
  nowMs(): number;
  send(m: Message): void;
  trace: Trace;
  safety: SafetyChecker;
  /** Runs `run` after `delayMs` of simulated time. */
  later(delayMs: number, run: () => void): void;
  /** Raft config knobs chosen per seed. */
  raft: { electionTick: number; heartbeatTick: number; checkQuorum: boolean; preVote: boolean; leaderWritesAsync: boolean };
  /** Take a local snapshot and compact every this many applied entries (0 = never). */
  snapshotEvery: number;
  /** Entries kept behind a compaction, so slightly lagging peers still catch up from the log. */
  compactLag: number;
  /** Called whenever a node applies a conf change (the operator watches these). */
  onConfChange(id: NodeId, cc: ConfChange, index: number, cs: ConfState): void;
}

type PutWaiter = (ok: boolean) => void;
type ReadWaiter = (value: string | undefined) => void;

export class SimNode {
  private rn: RawNode | null = null;
  private storage: MemoryStorage | null = null;
  private kv = new KvStateMachine();
  private applied = 0;
  private lastSnapshotIndex = 0;
  confState: ConfState = { voters: [], learners: [] };
  private role: StateType = 'follower';
  private putWaiters = new Map<string, PutWaiter>();
  private readWaiters = new Map<string, { key: string; index: number | undefined; done: ReadWaiter }>();
  crashCount = 0;
  private armedCrash: { torn: boolean } | null = null;
  /** Snapshots received from a leader and installed (InstallSnapshot path). */
  snapshotsInstalled = 0;
  /** Leader writes left to sync after the node moved on, and those a crash cut short. */
  leaderWritesBeside = 0;
  leaderWritesLost = 0;

  constructor(
    readonly id: NodeId,
    private readonly peers: NodeId[],
    private readonly env: NodeEnv,
    private readonly rng: Rng,
    readonly disk: NodeDisk,
  ) {}

  get up(): boolean {
    return this.rn !== null;
  }

  get isLeader(): boolean {
    return this.rn !== null && this.role === 'leader';
  }

  get term(): number {
    return this.rn?.status().hardState.term ?? 0;
  }

  get appliedIndex(): number {
    return this.applied;
  }

  /** First start (bootstrap from the peer list) or restart from the durable image. */
  start(): void {
    if (this.rn) throw new Error(`${this.id} already running`);
    const storage = this.disk.recover();
    const snap = storage.snapshot();
    this.kv = KvStateMachine.restore(snap.data);
    this.applied = snap.metadata.index;
    this.lastSnapshotIndex = snap.metadata.index;
    this.confState = storage.initialState().confState;
    const config = {
      id: this.id,
      electionTick: this.env.raft.electionTick,
      heartbeatTick: this.env.raft.heartbeatTick,
      storage,
      applied: this.applied,
      maxSizePerMsgBytes: 4096,
      maxInflightMsgs: 64,
      maxUncommittedEntriesBytes: 0,
      checkQuorum: this.env.raft.checkQuorum,
      preVote: this.env.raft.preVote,
      leaderWritesAsync: this.env.raft.leaderWritesAsync,
      rng: () => this.rng.next(),
    };
    const fresh = storage.lastIndex() === 0 && storage.initialState().hardState.term === 0;
    this.storage = storage;
    this.role = 'follower';
    this.rn = fresh ? RawNode.bootstrap(config, this.peers) : new RawNode(config);
    this.env.trace.note(this.env.nowMs(), `start${this.id}`, () =>
      `${this.id} ${fresh ? 'bootstraps' : 'restarts'} (snapshot@${snap.metadata.index}, last=${storage.lastIndex()})`);
    this.processReady();
  }

  /**
   * Arms a crash inside the node's next Ready that writes anything: the write
   * reaches the disk unsynced, then power fails before fsync — so nothing of
   * that Ready is sent or applied. Crashing between events instead would
   * find every write already synced. A leader whose writes go beside its loop
   * crashes instead when that write's sync is due: it has sent, and perhaps
   * committed through its followers, meanwhile — the window that counting its
   * own copy too early would make unsafe.
   */
  armCrash(torn: boolean): void {
    if (this.rn) this.armedCrash = { torn };
  }

  /** Power loss; with torn, part of what was written but not synced survives. */
  crash(torn: boolean, how = 'crashes'): void {
    const rn = this.rn;
    if (!rn) return;
    this.armedCrash = null;
    const kept = this.disk.crash(this.rng, torn);
    this.rn = null;
    this.storage = null;
    this.crashCount++;
    this.env.trace.note(this.env.nowMs(), `crash${this.id}:${kept}`, () =>
      `${this.id} ${how}; ${kept} unsynced ${this.disk.unit} survive`);
    // Connections to clients reset: puts become "unknown outcome", reads fail.
    for (const done of this.putWaiters.values()) done(false);
    for (const w of this.readWaiters.values()) w.done(undefined);
    this.putWaiters.clear();
    this.readWaiters.clear();
  }

  tick(): void {
    if (!this.rn) return;
    this.rn.tick();
    this.processReady();
  }

  receive(m: Message): void {
    if (!this.rn) return;
    this.rn.step(m);
    this.processReady();
  }

  /** The transport's report after a 'snap' message was delivered or lost. */
  reportSnapshot(to: NodeId, ok: boolean): void {
    if (!this.rn) return;
    this.rn.reportSnapshot(to, ok);
    this.processReady();
  }

  /** Returns false if the proposal was refused outright (it will never commit). */
  propose(cmd: PutCommand, data: Uint8Array, done: PutWaiter): boolean {
    if (!this.rn) return false;
    try {
      this.rn.propose(data);
    } catch (err) {
      if (err instanceof ProposalDroppedError) return false;
      throw err;
    }
    this.putWaiters.set(`${cmd.clientId}/${cmd.requestId}`, done);
    this.processReady();
    return true;
  }

  /** A linearizable read through ReadIndex, or (unsafe) the leader's local state. */
  read(clientId: number, requestId: number, key: string, unsafeLocal: boolean, done: ReadWaiter): boolean {
    if (!this.rn) return false;
    if (unsafeLocal && this.role === 'leader') {
      // The deliberately broken path: a node that merely believes it leads
      // answers from its own state, with no quorum check.
      done(this.kv.get(key));
      return true;
    }
    const ctx = encodeReadCtx(clientId, requestId);
    try {
      this.rn.readIndex(ctx);
    } catch (err) {
      if (err instanceof ProposalDroppedError) return false;
      throw err;
    }
    this.readWaiters.set(decodeReadCtx(ctx), { key, index: undefined, done });
    this.processReady();
    return true;
  }

  cancelPut(clientId: number, requestId: number): void {
    this.putWaiters.delete(`${clientId}/${requestId}`);
  }

  cancelRead(clientId: number, requestId: number): void {
    this.readWaiters.delete(`${clientId}/${requestId}`);
  }

  proposeConfChange(cc: ConfChange): boolean {
    if (!this.rn) return false;
    try {
      this.rn.proposeConfChange(cc);
    } catch (err) {
      if (err instanceof ProposalDroppedError) return false;
      throw err;
    }
    this.processReady();
    return true;
  }

  transferLeadership(to: NodeId): boolean {
    if (!this.rn) return false;
    try {
      this.rn.transferLeadership(to);
    } catch (err) {
      if (err instanceof ProposalDroppedError) return false;
      throw err;
    }
    this.processReady();
    return true;
  }

  /** The leader's view of membership progress: has it applied everything it committed? */
  confChangeIdle(): boolean {
    if (!this.rn) return false;
    const st = this.rn.status();
    return st.applied >= st.hardState.commit;
  }

  private processReady(): void {
    const rn = this.rn!;
    const storage = this.storage!;
    while (this.rn === rn && rn.hasReady()) {
      const rd = rn.ready();
      const leading = (rd.softState?.state ?? this.role) === 'leader';
      const besideLoop = leading && this.env.raft.leaderWritesAsync && !rd.snapshot && sameTermVote(rd.hardState, storage);
      // As RaftNode's ReadyHandler: a follower's forwards (proposals, read requests) leave
      // before its write, so a crash during the write may follow them.
      const early = leading ? [] : rd.messages.filter((m) => m.type === 'prop' || m.type === 'readIndex');
      for (const m of early) this.env.send(m);
      if (this.armedCrash && !besideLoop && (rd.entries.length > 0 || rd.hardState || rd.snapshot)) {
        this.disk.persist(rd.snapshot, rd.entries, rd.hardState, false);
        this.crash(this.armedCrash.torn, 'crashes between write and fsync');
        return;
      }
      if (besideLoop) {
        this.persistBesideLoop(rd, storage, rn);
      } else {
        this.persist(rd, storage);
      }
      if (rd.softState && rd.softState.state !== this.role) {
        this.role = rd.softState.state;
        const term = rn.status().hardState.term;
        this.env.trace.note(this.env.nowMs(), `role${this.id}:${this.role}:${term}`, () =>
          `${this.id} becomes ${this.role} in term ${term}`);
        if (this.role === 'leader') this.env.safety.onLeader(this.id, term, storage);
      }
      for (const m of rd.messages) if (!early.includes(m)) this.env.send(m);
      this.apply(rd, rn);
      for (const rs of rd.readStates) {
        const w = this.readWaiters.get(decodeReadCtx(rs.requestCtx));
        if (w) w.index = rs.index;
      }
      rn.advance(rd);
      this.serveReads();
      this.maybeSnapshot(storage);
    }
  }

  private persist(rd: Ready, storage: MemoryStorage): void {
    if (rd.snapshot) storage.applySnapshot(rd.snapshot);
    if (rd.entries.length > 0) {
      storage.append(rd.entries);
      this.env.safety.onStored(this.id, rd.entries, (i) => (i >= storage.firstIndex() - 1 ? storage.term(i) : undefined));
    }
    if (rd.hardState) storage.setHardState(rd.hardState);
    // Commit-only HardState changes need no fsync (etcd's MustSync); they stay
    // unsynced until the next synced write, and a crash may lose them.
    this.disk.persist(rd.snapshot, rd.entries, rd.hardState, rd.mustSync);
  }

  /**
   * A leader's write in flight: on the disk unsynced now, synced and reported to the core
   * (leaderPersisted) after a delay — usually a few ms, sometimes a stalled disk's 50–150.
   * The node goes on meanwhile; its later writes queue behind (one sync covers them all).
   */
  private persistBesideLoop(rd: Ready, storage: MemoryStorage, rn: RawNode): void {
    if (rd.entries.length > 0) {
      storage.append(rd.entries);
      this.env.safety.onStored(this.id, rd.entries, (i) => (i >= storage.firstIndex() - 1 ? storage.term(i) : undefined));
    }
    if (rd.hardState) storage.setHardState(rd.hardState);
    this.disk.persist(undefined, rd.entries, rd.hardState, false);
    const last = rd.entries[rd.entries.length - 1];
    if (!last) return;
    const delayMs = this.rng.chance(0.05) ? this.rng.int(50, 150) : this.rng.int(1, 8);
    this.leaderWritesBeside++;
    this.env.later(delayMs, () => {
      if (this.rn !== rn) {
        this.leaderWritesLost++; // crashed meanwhile: the write was lost or torn
        return;
      }
      if (this.armedCrash) {
        this.leaderWritesLost++;
        this.crash(this.armedCrash.torn, 'crashes before its write in flight is synced');
        return;
      }
      this.disk.persist(undefined, [], undefined, true);
      rn.leaderPersisted(last.index, last.term);
      this.processReady();
    });
  }

  private apply(rd: Ready, rn: RawNode): void {
    if (rd.snapshot) {
      const md = rd.snapshot.metadata;
      this.kv = KvStateMachine.restore(rd.snapshot.data);
      this.applied = md.index;
      this.lastSnapshotIndex = md.index;
      this.confState = md.confState;
      this.snapshotsInstalled++;
      this.env.trace.note(this.env.nowMs(), `snap${this.id}:${md.index}`, () => `${this.id} restores snapshot@${md.index}`);
    }
    const term = rd.committedEntries.length > 0 ? rn.status().hardState.term : 0;
    for (const e of rd.committedEntries) {
      if (e.index !== this.applied + 1) {
        throw new Error(`${this.id} applies index ${e.index} after ${this.applied}: committed entries not contiguous`);
      }
      this.env.safety.onApplied(this.id, e, term);
      this.applied = e.index;
      this.applyEntry(e, rn);
    }
  }

  private applyEntry(e: Entry, rn: RawNode): void {
    if (e.type === 'confChange') {
      const cc = decodeConfChange(e.data);
      this.confState = rn.applyConfChange(cc);
      this.env.onConfChange(this.id, cc, e.index, this.confState);
      return;
    }
    if (e.data.byteLength === 0) return; // a leader's no-op
    const cmd = decodePut(e.data);
    this.kv.apply(cmd);
    const key = `${cmd.clientId}/${cmd.requestId}`;
    const done = this.putWaiters.get(key);
    if (done) {
      this.putWaiters.delete(key);
      done(true);
    }
  }

  private serveReads(): void {
    for (const [ctx, w] of this.readWaiters) {
      if (w.index !== undefined && w.index <= this.applied) {
        this.readWaiters.delete(ctx);
        w.done(this.kv.get(w.key));
      }
    }
  }

  /** Snapshot the applied state and compact, so lagging peers need InstallSnapshot. */
  private maybeSnapshot(storage: MemoryStorage): void {
    const every = this.env.snapshotEvery;
    if (every <= 0 || this.applied - this.lastSnapshotIndex < every) return;
    const index = this.applied;
    const data = this.kv.snapshot();
    const snap = storage.createSnapshot(index, this.confState, data);
    const compactTo = index - this.env.compactLag;
    if (compactTo >= storage.firstIndex()) storage.compact(compactTo);
    this.disk.saveLocalSnapshot(snap, compactTo);
    this.lastSnapshotIndex = index;
    this.env.trace.note(this.env.nowMs(), `compact${this.id}:${index}`, () => `${this.id} snapshots@${index}, compacts to ${compactTo}`);
  }
}

/** The Ready changes neither term nor vote (what a leader's writes beside its loop may not). */
function sameTermVote(hs: HardState | undefined, storage: MemoryStorage): boolean {
  if (!hs) return true;
  const saved = storage.initialState().hardState;
  return hs.term === saved.term && hs.vote === saved.vote;
}
