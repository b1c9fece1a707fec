// A tiny synchronous network of RawNodes for unit tests: each node's Ready is
// persisted into its MemoryStorage, committed entries are applied to a list,
// and messages are delivered FIFO until everything is quiet. Links can be cut
// and messages filtered.

import {
  ConfState, Config, decodeConfChange, Entry, MemoryStorage, Message, NodeId, RawNode, ReadState,
} from '../../src/index.js';
import { seededRng } from '@tswarm/api';

/** The shared seeded PRNG (mulberry32, in @tswarm/api). */
export { seededRng };

export const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
export const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

export interface NetOptions {
  preVote?: boolean;
  checkQuorum?: boolean;
  electionTick?: number;
  heartbeatTick?: number;
  maxSizePerMsgBytes?: number;
  maxInflightMsgs?: number;
  maxUncommittedEntriesBytes?: number;
  learners?: NodeId[];
}

export function makeConfig(id: NodeId, storage: MemoryStorage, o: NetOptions = {}, applied = 0): Config {
  return {
    id,
    electionTick: o.electionTick ?? 10,
    heartbeatTick: o.heartbeatTick ?? 1,
    storage,
    applied,
    maxSizePerMsgBytes: o.maxSizePerMsgBytes ?? 1024 * 1024,
    maxInflightMsgs: o.maxInflightMsgs ?? 256,
    maxUncommittedEntriesBytes: o.maxUncommittedEntriesBytes ?? 0,
    checkQuorum: o.checkQuorum ?? false,
    preVote: o.preVote ?? false,
    rng: seededRng(id.split('').reduce((h, c) => h * 31 + c.charCodeAt(0), 7)),
  };
}

export class Peer {
  applied: string[] = [];
  confState: ConfState = { voters: [], learners: [] };
  readStates: ReadState[] = [];
  constructor(public node: RawNode, public storage: MemoryStorage) {}
}

export class Network {
  readonly peers = new Map<NodeId, Peer>();
  private readonly cut = new Set<string>();
  private readonly down = new Set<NodeId>();
  /** Return false to drop a message. */
  filter: ((m: Message) => boolean) | undefined;
  /** Every message delivered, for assertions. */
  readonly delivered: Message[] = [];
  private queue: Message[] = [];

  constructor(readonly opts: NetOptions = {}) {}

  /** A new cluster: every voter bootstraps with the same peer list. */
  static bootstrap(ids: NodeId[], opts: NetOptions = {}): Network {
    const net = new Network(opts);
    for (const id of ids) {
      const s = new MemoryStorage();
      net.peers.set(id, new Peer(RawNode.bootstrap(makeConfig(id, s, opts), ids), s));
    }
    net.settle();
    return net;
  }

  /** Adds a node with empty storage (to join via a conf change). */
  addEmpty(id: NodeId): Peer {
    const s = new MemoryStorage();
    const p = new Peer(new RawNode(makeConfig(id, s, this.opts)), s);
    this.peers.set(id, p);
    return p;
  }

  node(id: NodeId): RawNode {
    return this.peer(id).node;
  }

  peer(id: NodeId): Peer {
    const p = this.peers.get(id);
    if (!p) throw new Error(`no peer ${id}`);
    return p;
  }

  /** Cuts (both directions) the link between a and b. */
  isolatePair(a: NodeId, b: NodeId): void {
    this.cut.add(`${a}>${b}`);
    this.cut.add(`${b}>${a}`);
  }

  /** Cuts every link of id. */
  isolate(id: NodeId): void {
    this.down.add(id);
  }

  heal(): void {
    this.cut.clear();
    this.down.clear();
  }

  private connected(m: Message): boolean {
    return !this.down.has(m.from) && !this.down.has(m.to) && !this.cut.has(`${m.from}>${m.to}`);
  }

  /** Simulates a crash + restart from the node's storage (applied = snapshot index). */
  restart(id: NodeId): void {
    const p = this.peer(id);
    const snap = p.storage.snapshot();
    const np = new Peer(new RawNode(makeConfig(id, p.storage, this.opts, snap.metadata.index)), p.storage);
    np.applied = snap.data.byteLength > 0 ? (JSON.parse(dec(snap.data)) as string[]) : [];
    np.confState = snap.metadata.confState;
    this.peers.set(id, np);
  }

  /** Snapshot the node's applied state at its applied index and compact the log there. */
  compact(id: NodeId): void {
    const p = this.peer(id);
    const idx = p.node.status().applied;
    p.storage.createSnapshot(idx, p.confState, enc(JSON.stringify(p.applied)));
    p.storage.compact(idx);
  }

  /** Handles one Ready of a node (persist, queue messages, apply, advance). */
  handleReady(id: NodeId): boolean {
    const p = this.peer(id);
    if (!p.node.hasReady()) return false;
    const rd = p.node.ready();
    if (rd.snapshot) p.storage.applySnapshot(rd.snapshot);
    p.storage.append(rd.entries);
    if (rd.hardState) p.storage.setHardState(rd.hardState);
    for (const m of rd.messages) this.queue.push(m);
    if (rd.snapshot) {
      p.applied = rd.snapshot.data.byteLength > 0 ? (JSON.parse(dec(rd.snapshot.data)) as string[]) : [];
      p.confState = rd.snapshot.metadata.confState;
    }
    for (const e of rd.committedEntries) this.apply(p, e);
    p.readStates.push(...rd.readStates);
    p.node.advance(rd);
    return true;
  }

  private apply(p: Peer, e: Entry): void {
    if (e.type === 'confChange') {
      p.confState = p.node.applyConfChange(decodeConfChange(e.data));
    } else if (e.data.byteLength > 0) {
      p.applied.push(dec(e.data));
    }
  }

  /** Delivers one queued message; returns false when the queue is empty. */
  deliverOne(): boolean {
    const m = this.queue.shift();
    if (!m) return false;
    if (!this.connected(m) || (this.filter && !this.filter(m))) return true;
    const p = this.peers.get(m.to);
    if (!p) return true;
    this.delivered.push(m);
    p.node.step(m);
    return true;
  }

  /** Runs Ready handling and delivery until nothing is left to do. */
  settle(maxRounds = 10000): void {
    for (let round = 0; round < maxRounds; round++) {
      let busy = false;
      for (const id of this.peers.keys()) while (this.handleReady(id)) busy = true;
      while (this.deliverOne()) {
        busy = true;
        for (const id of this.peers.keys()) while (this.handleReady(id)) { /* drain */ }
      }
      if (!busy) return;
    }
    throw new Error('network did not settle');
  }

  /** Ticks every (non-isolated) node n times, settling after each tick. */
  tick(n = 1, only?: NodeId[]): void {
    for (let i = 0; i < n; i++) {
      for (const [id, p] of this.peers) if (!only || only.includes(id)) p.node.tick();
      this.settle();
    }
  }

  campaign(id: NodeId): void {
    this.node(id).campaign();
    this.settle();
  }

  propose(id: NodeId, data: string): void {
    this.node(id).propose(enc(data));
    this.settle();
  }

  leader(): NodeId | undefined {
    for (const [id, p] of this.peers) {
      if (!this.down.has(id) && p.node.status().softState.state === 'leader') return id;
    }
    return undefined;
  }

  /** Drops queued messages (e.g. after cutting a link). */
  clearQueue(): void {
    this.queue = [];
  }
}
