// Watches: a bounded history of recent events for replay, and one bounded queue per
// watcher. The applier hands events over synchronously and never waits: a watcher whose
// queue is full is closed with WatcherLaggedError and must re-list (viewAndWatch) —
// the same contract as a Kubernetes watch that gets "410 Gone".
import { StoreRestoredError, WatcherLaggedError, WatchTooOldError } from './errors.js';
import type { AnyTable } from './state.js';
import type { StoredObject, Table } from './table.js';

/**
 * Events kept for watchers that start from an older version. Covers a burst like a
 * 1000-replica service create (~3 events per task: created, allocated, assigned), so a
 * consumer that re-subscribes after a hiccup resumes without re-listing; further back a
 * re-list is cheaper than the memory. Events share the frozen objects of the store.
 */
export const WATCH_HISTORY_EVENTS = 10_000;

/**
 * Undelivered events one watcher may hold. Twice the history, so replaying the whole
 * history plus the live events of the consumer's first turn always fits. A consumer
 * further behind than this catches up faster by re-listing.
 */
export const WATCH_QUEUE_LIMIT = 2 * WATCH_HISTORY_EVENTS;

export type StoreEventKind = 'create' | 'update' | 'delete';

export interface StoreEvent<T = unknown> {
  readonly kind: StoreEventKind;
  readonly table: string;
  readonly id: string;
  /** The new object; for 'delete' the object as it was when deleted. Frozen. */
  readonly object: T;
  /** For 'update': the object before. */
  readonly oldObject?: T;
  /** Raft index of the transaction; all events of one transaction share it. */
  readonly version: number;
}

export interface WatchOptions {
  /** Deliver events with version > fromVersion. Default: the store's current version (live only). */
  fromVersion?: number;
  /** Only these tables (handles or names). Default: all. */
  tables?: ReadonlyArray<AnyTable | string>;
  /** Runs synchronously in the applier: keep it cheap. If it throws, the watcher fails with that error. */
  filter?: (ev: StoreEvent) => boolean;
  /** Override WATCH_QUEUE_LIMIT for this watcher (tests, or consumers known to be slow). */
  queueLimit?: number;
}

/** Narrows an event to a table's object type. */
export function isEventOf<T extends StoredObject>(table: Table<T>, ev: StoreEvent): ev is StoreEvent<T> {
  return ev.table === table.name;
}

/**
 * A stream of events, consumed with `for await (const ev of watcher)` or next().
 * Ends (done) after close(); throws once, then ends, if the store failed it (lagged,
 * restored from a snapshot, store closed). Breaking out of for-await closes it.
 */
export class Watcher implements AsyncIterable<StoreEvent> {
  private queue: StoreEvent[] = [];
  /** Invariant: queue[head..] are undelivered; earlier slots are garbage awaiting compaction. */
  private head = 0;
  private waiter: { resolve(r: IteratorResult<StoreEvent>): void; reject(e: Error): void } | undefined;
  private state: 'open' | 'closed' | 'failed' = 'open';
  private failure: Error | undefined;
  private failureReported = false;

  /** @internal Created by the store (watch / viewAndWatch). */
  constructor(
    readonly fromVersion: number,
    private readonly match: (ev: StoreEvent) => boolean,
    private readonly queueLimit: number,
    private readonly onClose: (w: Watcher) => void,
  ) {}

  /** Undelivered events. */
  get pending(): number {
    return this.queue.length - this.head;
  }

  get closed(): boolean {
    return this.state !== 'open';
  }

  /** Why the store closed this watcher, if it did. */
  get error(): Error | undefined {
    return this.failure;
  }

  /** @internal Called by the applier. Never blocks, never throws. */
  deliver(ev: StoreEvent): void {
    if (this.state !== 'open' || ev.version <= this.fromVersion) return;
    try {
      if (!this.match(ev)) return;
    } catch (err) {
      this.fail(new Error(`store watch filter threw: ${(err as Error).message}`));
      return;
    }
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve({ value: ev, done: false });
      return;
    }
    if (this.pending >= this.queueLimit) {
      this.fail(new WatcherLaggedError(this.queueLimit, ev.version));
      return;
    }
    this.queue.push(ev);
  }

  next(): Promise<IteratorResult<StoreEvent>> {
    if (this.state === 'failed') {
      if (this.failureReported) return Promise.resolve({ value: undefined, done: true });
      this.failureReported = true;
      return Promise.reject(this.failure);
    }
    if (this.pending > 0) {
      const value = this.queue[this.head++]!;
      this.compact();
      return Promise.resolve({ value, done: false });
    }
    if (this.state === 'closed') return Promise.resolve({ value: undefined, done: true });
    if (this.waiter) return Promise.reject(new Error('store watcher: next() called again before the previous call resolved'));
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  /** Stops the watch; events already queued are dropped. Idempotent. */
  close(): void {
    if (this.state !== 'open') return;
    this.state = 'closed';
    this.drop();
    this.waiter?.resolve({ value: undefined, done: true });
    this.waiter = undefined;
    this.onClose(this);
  }

  /**
   * @internal Closes with an error. Queued events are dropped rather than delivered
   * first: every reason to fail means the consumer must re-list anyway.
   */
  fail(err: Error): void {
    if (this.state !== 'open') return;
    this.state = 'failed';
    this.failure = err;
    this.drop();
    if (this.waiter) {
      this.failureReported = true;
      this.waiter.reject(err);
      this.waiter = undefined;
    }
    this.onClose(this);
  }

  [Symbol.asyncIterator](): AsyncIterator<StoreEvent> {
    return {
      next: () => this.next(),
      return: async () => {
        this.close();
        return { value: undefined, done: true };
      },
    };
  }

  private drop(): void {
    this.queue = [];
    this.head = 0;
  }

  private compact(): void {
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}

/** History and fan-out; owned by the Store, driven by its applier. */
export class WatchHub {
  private history: StoreEvent[] = [];
  private head = 0;
  /** Invariant: every event with version > floor is in history[head..]. */
  private floor: number;
  private readonly watchers = new Set<Watcher>();

  constructor(floor: number, private readonly historyLimit = WATCH_HISTORY_EVENTS) {
    this.floor = floor;
  }

  get watcherCount(): number {
    return this.watchers.size;
  }

  /** The oldest version a watch may start from. */
  get oldestVersion(): number {
    return this.floor;
  }

  open(fromVersion: number, match: (ev: StoreEvent) => boolean, queueLimit: number): Watcher {
    if (fromVersion < this.floor) throw new WatchTooOldError(fromVersion, this.floor);
    const w = new Watcher(fromVersion, match, queueLimit, (x) => this.watchers.delete(x));
    for (let i = this.firstAfter(fromVersion); i < this.history.length && !w.closed; i++) w.deliver(this.history[i]!);
    if (!w.closed) this.watchers.add(w);
    return w;
  }

  publish(events: readonly StoreEvent[]): void {
    for (const ev of events) {
      this.history.push(ev);
      for (const w of this.watchers) w.deliver(ev);
    }
    this.trim();
  }

  /** After a restore: fail every watcher, forget history; watches start at `version`. */
  reset(version: number): void {
    this.failAll(new StoreRestoredError(version, 'watch'));
    this.history = [];
    this.head = 0;
    this.floor = version;
  }

  failAll(err: Error): void {
    for (const w of [...this.watchers]) w.fail(err);
  }

  /** Index of the first retained event with version > v (versions never decrease). */
  private firstAfter(v: number): number {
    let lo = this.head;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.history[mid]!.version <= v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Evicts whole versions (a transaction's events stay together) down to the limit. */
  private trim(): void {
    while (this.history.length - this.head > this.historyLimit) {
      const v = this.history[this.head]!.version;
      while (this.head < this.history.length && this.history[this.head]!.version === v) this.head++;
      this.floor = v;
    }
    if (this.head > 1024 && this.head * 2 > this.history.length) {
      this.history = this.history.slice(this.head);
      this.head = 0;
    }
  }
}
