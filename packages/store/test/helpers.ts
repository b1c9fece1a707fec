// Shared fixtures: two test tables, deterministic request ids, and proposers that let a
// test decide when entries commit.
import { StoreTransaction } from '@tswarm/api';
import { LocalProposer, Store, Table, jsonCodec, type Proposer, type StoreOptions } from '../src/index.js';

export interface Item {
  id: string;
  name: string;
  value: number;
  pad?: string;
}

export interface Task {
  id: string;
  serviceId: string;
  nodeId?: string;
  state: string;
}

/** Names are unique, like services. */
export const items = new Table<Item>('items', jsonCodec<Item>()).index('byName', (i) => i.name, { unique: true });
export const tasks = new Table<Task>('tasks', jsonCodec<Task>())
  .index('byService', (t) => t.serviceId)
  .index('byNode', (t) => t.nodeId);

export function counterIds(prefix = 'req'): () => string {
  let n = 0;
  return () => `${prefix}-${++n}`;
}

export function localStore(opts: Partial<StoreOptions> = {}): { store: Store; proposer: LocalProposer } {
  const proposer = new LocalProposer();
  const store = new Store({ proposer, tables: [items, tasks], newRequestId: counterIds(), ...opts });
  proposer.attach(store);
  return { store, proposer };
}

/**
 * Holds proposals until the test commits them, then applies them in order to every
 * attached replica — so two transactions can be built on the same version and reach
 * apply one after the other, as with a real leader.
 */
export class QueueProposer implements Proposer {
  readonly replicas: Store[] = [];
  readonly log: Uint8Array[] = [];
  private queue: Array<{ data: Uint8Array; resolve(i: number): void }> = [];
  private readGate: Array<(i: number) => void> = [];

  get queued(): number {
    return this.queue.length;
  }

  propose(data: Uint8Array): Promise<number> {
    return new Promise((resolve) => this.queue.push({ data: Uint8Array.from(data), resolve }));
  }

  /** Commits and applies the first `n` queued proposals (all by default). */
  commit(n = this.queue.length): void {
    for (const p of this.queue.splice(0, n)) {
      this.log.push(p.data);
      const index = this.log.length;
      for (const r of this.replicas) r.apply(index, p.data);
      p.resolve(index);
    }
  }

  /** Resolves only when the test calls releaseReads(). */
  readIndex(): Promise<number> {
    return new Promise((resolve) => this.readGate.push(resolve));
  }

  releaseReads(index: number): void {
    for (const r of this.readGate.splice(0)) r(index);
  }
}

export function queueStore(): { store: Store; proposer: QueueProposer } {
  const proposer = new QueueProposer();
  const store = new Store({ proposer, tables: [items, tasks], newRequestId: counterIds() });
  proposer.replicas.push(store);
  return { store, proposer };
}

export function decodeEntry(data: Uint8Array): StoreTransaction {
  return StoreTransaction.decode(data);
}

/** Lets pending promise callbacks and timers run. */
export function tick(): Promise<void> {
  return new Promise((r) => setImmediate(r));
}

/** The shared seeded PRNG (mulberry32, in @tswarm/api). */
export { seededRng as rng } from '@tswarm/api';
