// Log plumbing: the control API subscribes (`service logs`), the dispatcher asks the agents
// running the service's tasks through their SessionMessage (log_subscriptions), and the
// agents answer on PublishLogs. Like swarmkit's log broker, minus its separate listener RPC.
//
// Subscription messages are deltas per session: a new subscription is sent once, a
// cancelled one once more with close = true; a node's first SessionMessage (a new session)
// carries every subscription still open for it, so a reconnecting agent resumes them.
import * as grpc from '@grpc/grpc-js';
import type { LogMessage, LogSubscription, Logger, PublishLogsMessage } from '@tswarm/api';
import { StatusError } from '@tswarm/ca';
import type { Store } from '@tswarm/store';
import { tasksTable } from '../tables.js';

/**
 * Undelivered log messages one subscriber may hold. A subscriber slower than its agents
 * (a stalled CLI) is ended with RESOURCE_EXHAUSTED rather than growing the manager's heap:
 * 10 000 lines is minutes of a chatty service, far more than a terminal keeps up with.
 */
export const LOG_BUFFER_MESSAGES = 10_000;

export interface LogSubscribeOptions {
  serviceId: string;
  /** Only these tasks; empty: every task of the service. */
  taskIds?: string[];
  follow: boolean;
  /** Lines from the end of each task's log; 0 or less: everything. */
  tail: number;
}

/** Log lines in arrival order; ends when every node finished (follow: only on close()). */
export interface LogStream extends AsyncIterable<LogMessage> {
  readonly id: string;
  /** Ends the stream and tells the agents to stop sending. Idempotent. */
  close(): void;
}

export interface LogBrokerDeps {
  store: Store;
  logger: Logger;
  newId(): string;
  /** A node has subscription changes to receive; the dispatcher sends its SessionMessage. */
  notify(nodeId: string): void;
}

class Subscription implements LogStream {
  /** Nodes asked to send; a node leaves the set when it sends close. */
  readonly waitingOn: Set<string>;
  private buf: LogMessage[] = [];
  /** A reader waiting in next(): settled by the next line, the end, or the error that ends it. */
  private waiter: { resolve(r: IteratorResult<LogMessage>): void; reject(e: Error): void } | undefined;
  private failure: Error | undefined;
  ended = false;

  constructor(readonly wire: LogSubscription, readonly nodes: ReadonlySet<string>, private readonly onClose: (s: Subscription) => void) {
    this.waitingOn = new Set(nodes);
  }

  get id(): string {
    return this.wire.id;
  }

  push(m: LogMessage): void {
    if (this.ended) return;
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve({ value: m, done: false });
    } else if (this.buf.length >= LOG_BUFFER_MESSAGES) {
      this.end(new StatusError(grpc.status.RESOURCE_EXHAUSTED, `log subscriber fell ${LOG_BUFFER_MESSAGES} messages behind`));
    } else {
      this.buf.push(m);
    }
  }

  /** Ends the stream; queued lines are still delivered unless it ends with an error. */
  end(err?: Error): void {
    if (this.ended) return;
    this.ended = true;
    this.failure = err;
    if (err) this.buf = [];
    const w = this.waiter;
    this.waiter = undefined;
    if (w && err) {
      // A waiting reader gets the error itself, not a quiet end that would look like
      // "no more logs" (a -f stream cut by a leader change must say so).
      this.failure = undefined;
      w.reject(err);
    } else {
      w?.resolve({ value: undefined, done: true });
    }
    this.onClose(this);
  }

  close(): void {
    this.end();
  }

  [Symbol.asyncIterator](): AsyncIterator<LogMessage> {
    return {
      next: () => {
        if (this.buf.length > 0) return Promise.resolve({ value: this.buf.shift()!, done: false });
        if (this.failure) {
          const f = this.failure;
          this.failure = undefined;
          return Promise.reject(f);
        }
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
      },
      return: async () => {
        this.close();
        return { value: undefined, done: true };
      },
    };
  }
}

export class LogBroker {
  private readonly subs = new Map<string, Subscription>();
  /** nodeId → subscription changes not yet sent to it. */
  private readonly deltas = new Map<string, LogSubscription[]>();

  constructor(private readonly deps: LogBrokerDeps) {}

  subscribe(opts: LogSubscribeOptions): LogStream {
    const wanted = opts.taskIds?.length ? new Set(opts.taskIds) : undefined;
    const nodes = this.deps.store.view((tx) => {
      const out = new Set<string>();
      for (const { object: t } of tx.find(tasksTable, 'byService', opts.serviceId)) {
        if (t.nodeId && (!wanted || wanted.has(t.id))) out.add(t.nodeId);
      }
      return out;
    });
    const wire: LogSubscription = {
      id: this.deps.newId(),
      serviceId: opts.serviceId,
      taskIds: opts.taskIds ?? [],
      follow: opts.follow,
      tail: opts.tail,
      close: false,
    };
    // TODO(logs): with follow, tasks that start later on other nodes are not picked up;
    // a node whose agent never answers keeps a non-follow stream open until close().
    const sub = new Subscription(wire, nodes, (s) => this.onClosed(s));
    this.subs.set(wire.id, sub);
    if (nodes.size === 0) sub.end(); // nothing runs anywhere: an empty log
    for (const n of nodes) this.queue(n, wire);
    return sub;
  }

  /** An agent's PublishLogs message. Lines for a subscription it was not asked for are refused. */
  publish(nodeId: string, msg: PublishLogsMessage): void {
    const sub = this.subs.get(msg.subscriptionId);
    if (!sub) return; // closed meanwhile: the close delta is on its way to the agent
    if (!sub.nodes.has(nodeId)) {
      throw new StatusError(grpc.status.PERMISSION_DENIED, `node ${nodeId} was not asked for log subscription ${msg.subscriptionId}`);
    }
    for (const m of msg.messages) sub.push({ ...m, nodeId });
    if (msg.close) {
      sub.waitingOn.delete(nodeId);
      if (sub.waitingOn.size === 0 && !sub.wire.follow) sub.end();
    }
  }

  /**
   * What the node's next SessionMessage carries: on a new session (`all`) every open
   * subscription that involves it, else the deltas queued since the last message.
   */
  takeFor(nodeId: string, all: boolean): LogSubscription[] {
    const queued = this.deltas.get(nodeId) ?? [];
    this.deltas.delete(nodeId);
    if (!all) return queued;
    return [...this.subs.values()].filter((s) => s.waitingOn.has(nodeId)).map((s) => s.wire);
  }

  closeAll(err: Error): void {
    for (const s of [...this.subs.values()]) s.end(err);
    this.deltas.clear();
  }

  private onClosed(sub: Subscription): void {
    this.subs.delete(sub.id);
    for (const n of sub.waitingOn) this.queue(n, { ...sub.wire, close: true });
  }

  private queue(nodeId: string, change: LogSubscription): void {
    let q = this.deltas.get(nodeId);
    if (!q) this.deltas.set(nodeId, (q = []));
    q.push(change);
    this.deps.notify(nodeId);
  }
}
