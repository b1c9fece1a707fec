// Keeps every connected node's network view current. One store watch over the tables a
// view is made of; the first event after a quiet period is published at once, the rest of a
// burst merged until ASSIGNMENT_BATCH_MS after the last publication (flushDelayMs); each time
// the views of the connected nodes are rebuilt from one consistent read and offered to their
// streams, which send only the ones that changed (AssignmentStream.offerNetworkView).
//
// Cost: a rebuild is O(tasks + nodes × endpoints of their networks), at most once per
// ASSIGNMENT_BATCH_MS whatever changed — a few milliseconds at hundreds of tasks. The kernel
// side, where cost matters more, is diffed on each node (packages/network).
import { flushDelayMs, type Logger, type NetworkView } from '@tswarm/api';
import { WatcherLaggedError, type Store, type Watcher } from '@tswarm/store';
import { clusterTable, networksTable, nodesTable, servicesTable, tasksTable } from '../tables.js';
import { ASSIGNMENT_BATCH_MS } from './assignments.js';
import type { TimerHandle } from './contract.js';
import { buildNetworkViews, type NetState } from './network-views.js';

export interface ViewSubscriber {
  readonly nodeId: string;
  offerNetworkView(view: NetworkView): void;
}

export interface NetworkViewPublisherDeps {
  store: Store;
  nowMs(): number;
  setTimer(fn: () => void, ms: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
  logger: Logger;
}

const VIEW_TABLES = [tasksTable, servicesTable, networksTable, nodesTable, clusterTable];

/** The store's objects a view is made of, read in one transaction. */
export function readNetState(store: Store): NetState {
  return store.view((tx) => ({
    networks: tx.list(networksTable).map((r) => r.object),
    services: tx.list(servicesTable).map((r) => r.object),
    tasks: tx.list(tasksTable).map((r) => r.object),
    nodes: tx.list(nodesTable).map((r) => r.object),
    dataPathPort: tx.list(clusterTable)[0]?.object.dataPathPort ?? 0,
  }));
}

export class NetworkViewPublisher {
  private watcher: Watcher | undefined;
  private timer: TimerHandle | undefined;
  /** deps.nowMs() at the last rebuild (see flushDelayMs). */
  private lastFlushAt = -Infinity;

  constructor(
    private readonly deps: NetworkViewPublisherDeps,
    /** The streams to keep current, read at each flush. */
    private readonly subscribers: () => Iterable<ViewSubscriber>,
  ) {}

  start(): void {
    if (this.watcher) return;
    const watcher = this.deps.store.watch({ tables: VIEW_TABLES });
    this.watcher = watcher;
    void this.pump(watcher);
  }

  stop(): void {
    this.watcher?.close();
    this.watcher = undefined;
    if (this.timer !== undefined) this.deps.clearTimer(this.timer);
    this.timer = undefined;
  }

  /** The view of one node now (a new stream's first message). */
  viewFor(nodeId: string): NetworkView {
    return buildNetworkViews(readNetState(this.deps.store), [nodeId]).get(nodeId)!;
  }

  private async pump(watcher: Watcher): Promise<void> {
    try {
      for await (const _ev of watcher) this.arm();
    } catch (err) {
      if (this.watcher !== watcher) return;
      // A lagged watch lost events, but a flush reads the whole state: re-open and flush.
      if (!(err instanceof WatcherLaggedError)) this.deps.logger.warn('network view watch failed; re-opening', { err: (err as Error).message });
      this.watcher = undefined;
      this.start();
      this.arm();
    }
  }

  private arm(): void {
    if (this.timer === undefined) this.timer = this.deps.setTimer(() => this.flush(), flushDelayMs(this.lastFlushAt, ASSIGNMENT_BATCH_MS, this.deps.nowMs()));
  }

  private flush(): void {
    this.timer = undefined;
    if (!this.watcher) return;
    this.lastFlushAt = this.deps.nowMs();
    const subs = [...this.subscribers()];
    if (subs.length === 0) return;
    const views = buildNetworkViews(readNetState(this.deps.store), subs.map((s) => s.nodeId));
    for (const s of subs) s.offerNetworkView(views.get(s.nodeId)!);
  }
}
