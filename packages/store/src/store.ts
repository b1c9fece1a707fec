// The replicated object store. Writes go out through the Proposer as one encoded
// StoreTransaction per Raft entry; they take effect only when the owner feeds the
// committed entry back through apply() — on the proposing node exactly as on every
// other replica. The store keeps no timers; a proposal that never commits is failed by
// the proposer.
//
// One owner for the state (STYLE 4): only apply/advance/restore change it, and they run
// to completion synchronously, so a synchronous view() always sees one version.
import { randomUUID } from 'node:crypto';
import { encodeMessage, StoreTransaction } from '@tswarm/api';
import { applyTransaction } from './apply.js';
import { MAX_ACTIONS_PER_TRANSACTION, MAX_TRANSACTION_BYTES, runBatch, type Batch, type BatchResult } from './batch.js';
import { ProposalDroppedError, StoreClosedError, StoreError, StoreRestoredError, TransactionTooLargeError } from './errors.js';
import type { ApplyOutcome, Proposer, ReplicatedStateMachine } from './proposer.js';
import { captureSnapshot, decodeSnapshot, encodeSnapshot, type SnapshotCapture } from './snapshot.js';
import { SourceReader, StoreState, type AnyTable, type ReadTx, type Row, type RowSource } from './state.js';
import { Overlay, TxBuilder, type WriteTx } from './tx.js';
import { WATCH_HISTORY_EVENTS, WATCH_QUEUE_LIMIT, WatchHub, type StoreEvent, type WatchOptions, type Watcher } from './watch.js';

export interface StoreOptions {
  proposer: Proposer;
  /** Every table this store holds; the same list, in any order, on every replica. */
  tables: readonly AnyTable[];
  /** Ids that match applied entries to waiting callers. Default: crypto.randomUUID. */
  newRequestId?: () => string;
  /** Events kept for watch replay. Default WATCH_HISTORY_EVENTS. */
  historyEvents?: number;
  /** Batch limits. Defaults MAX_ACTIONS_PER_TRANSACTION / MAX_TRANSACTION_BYTES. */
  maxActionsPerTransaction?: number;
  maxTransactionBytes?: number;
}

export interface UpdateResult<R> {
  /** The Raft index the transaction applied at; the store version if it wrote nothing. */
  readonly version: number;
  /** What the callback returned. */
  readonly result: R;
}

export interface ViewAndWatch<R> {
  readonly result: R;
  /** The version the read saw; the watcher delivers exactly the events after it. */
  readonly version: number;
  readonly watcher: Watcher;
}

interface Pending {
  resolve(index: number): void;
  reject(err: Error): void;
}

export class Store implements ReplicatedStateMachine {
  private state: StoreState;
  private readonly defs: readonly AnyTable[];
  private readonly proposer: Proposer;
  private readonly newRequestId: () => string;
  private readonly hub: WatchHub;
  private readonly maxActions: number;
  private readonly maxBytes: number;
  /** requestId → caller waiting for its transaction's outcome. */
  private readonly pending = new Map<string, Pending>();
  /** Raft index → requestId the proposer said committed there, until that index applies. */
  private readonly committedAt = new Map<number, string>();
  /** Callers of waitForVersion. */
  private waiters: Array<{ version: number; resolve(): void; reject(e: Error): void }> = [];
  private closed = false;
  /** Reads go through this, so in-flight transactions follow a restore to the new state. */
  private readonly live: RowSource;

  constructor(opts: StoreOptions) {
    this.defs = [...opts.tables];
    this.state = new StoreState(this.defs);
    this.proposer = opts.proposer;
    this.newRequestId = opts.newRequestId ?? randomUUID;
    this.hub = new WatchHub(0, opts.historyEvents ?? WATCH_HISTORY_EVENTS);
    this.maxActions = opts.maxActionsPerTransaction ?? MAX_ACTIONS_PER_TRANSACTION;
    this.maxBytes = opts.maxTransactionBytes ?? MAX_TRANSACTION_BYTES;
    const self = this;
    this.live = {
      get version() { return self.state.version; },
      tableDef: (n) => this.state.tableDef(n),
      row: (t, id): Row | undefined => this.state.row(t, id),
      rows: (t) => this.state.rows(t),
      findIds: (t, i, k) => this.state.findIds(t, i, k),
    };
  }

  get version(): number {
    return this.state.version;
  }

  /** Oldest version watch() accepts as fromVersion. */
  get oldestWatchableVersion(): number {
    return this.hub.oldestVersion;
  }

  // ---- reads ----

  /**
   * Reads the locally applied state (on a follower it may lag the leader). `fn` must be
   * synchronous: the reader refuses use after `fn` returns, since the state moves on.
   */
  view<R>(fn: (tx: ReadTx) => R): R {
    const reader = new ViewReader(this.live);
    try {
      return fn(reader);
    } finally {
      reader.done = true;
    }
  }

  /** view() after this replica has applied everything committed before the call (ReadIndex). */
  async linearizableView<R>(fn: (tx: ReadTx) => R): Promise<R> {
    this.ensureOpen();
    const readIndex = await this.proposer.readIndex();
    await this.waitForVersion(readIndex);
    return this.view(fn);
  }

  /** Resolves once the applied version is at least `version`. */
  waitForVersion(version: number): Promise<void> {
    if (this.state.version >= version) return Promise.resolve();
    if (this.closed) return Promise.reject(new StoreClosedError());
    return new Promise((resolve, reject) => this.waiters.push({ version, resolve, reject }));
  }

  // ---- writes ----

  /**
   * Runs `fn` to build one transaction (one Raft entry) and resolves when it applied.
   * Rejects with VersionConflictError / AlreadyExistsError / NotFoundError /
   * DuplicateKeyError when the transaction was rejected (nothing applied), or with the
   * proposer's error. Not retried: a conflict means `fn` read stale data — re-run it.
   */
  async update<R>(fn: (tx: WriteTx) => R | Promise<R>): Promise<UpdateResult<R>> {
    this.ensureOpen();
    const overlay = new Overlay(this.live);
    const tx = new TxBuilder(overlay);
    let result: R;
    try {
      result = await fn(tx);
    } finally {
      tx.seal();
    }
    const version = await this.commit(overlay, 'split it with store.batch()');
    return { version, result };
  }

  /** Many atomic units in as few bounded transactions as possible; see batch.ts. */
  batch(fn: (b: Batch) => void | Promise<void>): Promise<BatchResult> {
    this.ensureOpen();
    return runBatch(this.live, (o) => this.commit(o, 'split the batch unit'), fn, {
      maxActions: this.maxActions,
      maxBytes: this.maxBytes,
    });
  }

  /** Proposes the overlay's actions; resolves with the index they applied at. */
  private commit(overlay: Overlay, hint: string): Promise<number> {
    const actions = overlay.actions();
    if (actions.length === 0) return Promise.resolve(this.state.version);
    this.ensureOpen();
    const requestId = this.newRequestId();
    if (this.pending.has(requestId)) throw new Error(`store request id "${requestId}" reused while pending; the id generator must be unique`);
    const data = encodeMessage(StoreTransaction, { requestId, actions });
    if (data.length > this.maxBytes) return Promise.reject(new TransactionTooLargeError(data.length, this.maxBytes, hint));
    return new Promise<number>((resolve, reject) => {
      this.pending.set(requestId, { resolve, reject });
      let proposal: Promise<number>;
      try {
        proposal = this.proposer.propose(data);
      } catch (err) {
        proposal = Promise.reject(err); // a proposer that throws instead of rejecting
      }
      proposal.then(
        (index) => this.onCommitted(requestId, index),
        (err: unknown) => this.settle(requestId, err instanceof Error ? err : new Error(String(err))),
      );
    });
  }

  private onCommitted(requestId: string, index: number): void {
    if (!this.pending.has(requestId)) return; // already applied (or failed)
    // Index already applied without settling us: the entry there was someone else's.
    if (index <= this.state.version) this.settle(requestId, new ProposalDroppedError(requestId, index));
    else this.committedAt.set(index, requestId);
  }

  private settle(requestId: string, outcome: number | Error): void {
    const p = this.pending.get(requestId);
    if (!p) return;
    this.pending.delete(requestId);
    if (typeof outcome === 'number') p.resolve(outcome);
    else p.reject(outcome);
  }

  // ---- watches ----

  /** Events after `fromVersion` (default: now). Throws WatchTooOldError if history is gone. */
  watch(opts: WatchOptions = {}): Watcher {
    this.ensureOpen();
    const from = opts.fromVersion ?? this.state.version;
    if (!Number.isSafeInteger(from) || from < 0) throw new Error(`watch fromVersion must be a non-negative integer, got ${from}`);
    const tables = opts.tables && new Set(opts.tables.map((t) => (typeof t === 'string' ? t : t.name)));
    for (const t of tables ?? []) this.state.table(t); // UnknownTableError now, not silence later
    const filter = opts.filter;
    const match = (ev: StoreEvent): boolean => (!tables || tables.has(ev.table)) && (!filter || filter(ev));
    return this.hub.open(from, match, opts.queueLimit ?? WATCH_QUEUE_LIMIT);
  }

  /**
   * Reads and starts watching at the same version, so no event falls between the two
   * (both happen in one synchronous turn; nothing can apply in between).
   */
  viewAndWatch<R>(fn: (tx: ReadTx) => R, opts: Omit<WatchOptions, 'fromVersion'> = {}): ViewAndWatch<R> {
    const version = this.state.version;
    const result = this.view(fn);
    const watcher = this.watch({ ...opts, fromVersion: version });
    return { result, version, watcher };
  }

  // ---- fed by the owner (ReplicatedStateMachine) ----

  apply(index: number, data: Uint8Array): ApplyOutcome {
    this.checkIndex(index);
    let outcome: ApplyOutcome;
    let events: StoreEvent[] = [];
    let requestId = '';
    try {
      const tx = StoreTransaction.decode(data);
      requestId = tx.requestId;
      events = applyTransaction(this.state, index, tx);
      outcome = { applied: true, requestId, events: events.length };
    } catch (err) {
      // Every failure is a deterministic rejection: validation precedes any write, so
      // the state is untouched, and every replica fails the same entry the same way.
      const reason = err instanceof StoreError ? err : new StoreError(`entry ${index} rejected: ${(err as Error).message}`);
      outcome = { applied: false, requestId, reason };
    }
    this.state.version = index;
    this.hub.publish(events);
    if (requestId) this.settle(requestId, outcome.applied ? index : outcome.reason);
    this.afterIndex(index);
    return outcome;
  }

  advance(index: number): void {
    this.checkIndex(index);
    this.state.version = index;
    this.afterIndex(index);
  }

  snapshot(): Uint8Array {
    return encodeSnapshot(this.state);
  }

  /**
   * The state as it is now, to be encoded in the background (a slice per turn): it writes
   * what `snapshot()` returns at this moment, whatever is applied meanwhile.
   */
  captureSnapshot(): SnapshotCapture {
    return captureSnapshot(this.state);
  }

  restore(snapshot: Uint8Array): void {
    const next = decodeSnapshot(snapshot, this.defs); // throws before anything changes
    if (next.version < this.state.version) {
      throw new Error(`refusing to restore a snapshot at version ${next.version} over applied version ${this.state.version}`);
    }
    this.state = next;
    this.hub.reset(next.version);
    const err = new StoreRestoredError(next.version, 'transaction');
    for (const id of [...this.pending.keys()]) this.settle(id, err);
    this.committedAt.clear();
    this.afterIndex(next.version);
  }

  /** Fails pending transactions, version waiters and watchers; later calls throw. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const err = new StoreClosedError();
    for (const id of [...this.pending.keys()]) this.settle(id, err);
    for (const w of this.waiters) w.reject(err);
    this.waiters = [];
    this.hub.failAll(err);
  }

  private checkIndex(index: number): void {
    if (this.closed) throw new StoreClosedError();
    if (!Number.isSafeInteger(index) || index <= this.state.version) {
      throw new Error(`store: entry ${index} applied out of order (store is at ${this.state.version}); the owner must feed each committed index once, in order`);
    }
  }

  /** Wakes version waiters and fails proposals whose index went by without them. */
  private afterIndex(index: number): void {
    for (const [i, requestId] of this.committedAt) {
      if (i > index) continue;
      this.committedAt.delete(i);
      this.settle(requestId, new ProposalDroppedError(requestId, i)); // no-op if it applied
    }
    if (this.waiters.length === 0) return;
    const ready = this.waiters.filter((w) => w.version <= index);
    this.waiters = this.waiters.filter((w) => w.version > index);
    for (const w of ready) w.resolve();
  }

  private ensureOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }
}

/** A ReadTx that refuses use after its view callback returned. */
class ViewReader extends SourceReader {
  done = false;

  protected override checked(table: AnyTable): string {
    if (this.done) throw new Error('store view used after its callback returned; keep view callbacks synchronous');
    return super.checked(table);
  }
}
