// The agent: keeps one session with some manager, feeds its assignments to the worker, sends
// task status through the reporter and answers log subscriptions. When a session fails it
// connects to the next manager it knows, with exponential backoff; the new session starts
// with a complete set of assignments, from which the worker resyncs.
import type { ChannelCredentials } from '@grpc/grpc-js';
import type { Logger, NodeDescription, SessionMessage, Task } from '@tswarm/api';
import { type Clock, type Rng, sleep, systemClock } from './clock.js';
import type { Dataplane } from './dataplane.js';
import type { Executor } from './executor.js';
import { LogPublisher } from './log-publisher.js';
import { ManagerCallError, Session } from './session.js';
import { StatusReporter } from './status-reporter.js';
import { type BackoffPolicy, DEFAULT_BACKOFF, reconnectDelayMs } from './timing.js';
import { Worker } from './worker.js';

export interface AgentOptions {
  executor: Executor;
  /** The node's network data plane; absent, containers keep the engine's own networking. */
  dataplane?: Dataplane;
  /** Manager cluster addresses (host:port) to try, in order; managers then send the full list. */
  managers: string[];
  /** mTLS credentials with the node certificate in production; insecure ones in tests. */
  credentials: ChannelCredentials;
  /** Sent when opening a session; executor.describe() is asked when absent. */
  nodeDescription?: NodeDescription;
  logger: Logger;
  clock?: Clock;
  rng?: Rng;
  backoff?: BackoffPolicy;
  statusFlushMs?: number;
  sessionOpenTimeoutMs?: number;
  /**
   * Every SessionMessage from the manager, the first of each session included: the host
   * acts on the node spec it carries (a promotion or demotion) and on the manager list.
   * Called on the agent's turn; must not throw (errors are logged and ignored).
   */
  onSessionMessage?(msg: SessionMessage): void;
}

/** What onSessionChange listeners are told. */
export interface SessionState {
  connected: boolean;
  /** The manager of the current (connected) or last failed session. */
  manager: string;
  sessionId: string;
  /** Why the session ended or could not open (disconnected only). */
  error?: string;
}

export class Agent {
  private readonly clock: Clock;
  private readonly rng: Rng;
  private readonly logger: Logger;
  private readonly reporter: StatusReporter;
  private readonly worker: Worker;
  private readonly logs: LogPublisher;
  private readonly listeners = new Set<(s: SessionState) => void>();
  /** The configured managers first, then those the managers told us about. */
  private managers: string[];
  private session: Session | undefined;
  private loop: Promise<void> | undefined;
  private readonly stopping = new AbortController();

  constructor(private readonly opts: AgentOptions) {
    if (opts.managers.length === 0) throw new Error('agent: no manager address to connect to; pass at least one host:port');
    this.clock = opts.clock ?? systemClock;
    this.rng = opts.rng ?? Math.random;
    this.logger = opts.logger.child('agent');
    this.managers = [...opts.managers];
    this.reporter = new StatusReporter({ clock: this.clock, logger: this.logger, flushMs: opts.statusFlushMs });
    this.worker = new Worker({ executor: opts.executor, dataplane: opts.dataplane, reporter: this.reporter, clock: this.clock, logger: this.logger });
    this.logs = new LogPublisher({
      clock: this.clock,
      logger: this.logger,
      tasks: () => this.worker.tasks().map((task) => ({ task, controller: this.worker.runner(task.id)!.controller })),
      open: (done) => this.session?.publishLogs(done),
    });
  }

  /** Starts connecting; resolves once the node description is known (not when connected). */
  async start(): Promise<void> {
    if (this.loop) return;
    const description = this.opts.nodeDescription ?? (await this.opts.executor.describe());
    this.loop = this.run(description);
  }

  /** Ends the session and stops driving tasks. Containers keep running, to be adopted later. */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.logs.closeAll();
    await this.worker.stop();
    // The last statuses go out on the session we have (each call has a deadline).
    await this.reporter.flush().catch(() => {});
    this.reporter.stop();
    this.session?.close(new Error('agent stopping'));
    await this.loop;
  }

  /** Calls `listener` whenever a session opens or ends; returns the unsubscribe function. */
  onSessionChange(listener: (s: SessionState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The managers this agent would try, in order. */
  knownManagers(): string[] {
    return [...this.managers];
  }

  /** The tasks assigned to this node right now. */
  tasks(): Task[] {
    return this.worker.tasks();
  }

  private emit(s: SessionState): void {
    for (const l of this.listeners) {
      try { l(s); } catch (err) { this.logger.warn('session listener failed', { err: String(err) }); }
    }
  }

  private async run(description: NodeDescription): Promise<void> {
    let attempt = 0;
    let next = 0;
    while (!this.stopping.signal.aborted) {
      const addr = this.managers[next % this.managers.length]!;
      const session = new Session({
        addr,
        credentials: this.opts.credentials,
        description,
        clock: this.clock,
        rng: this.rng,
        logger: this.logger,
        openTimeoutMs: this.opts.sessionOpenTimeoutMs,
        onMessage: (msg) => this.onSessionMessage(msg),
        onAssignments: (msg) => void this.worker.apply(msg),
      });
      this.session = session;
      let reason: Error;
      try {
        const first = await session.open();
        attempt = 0;
        this.logger.info('session established', { manager: addr, session: first.sessionId });
        this.reporter.setSender((updates) => session.sendStatus(updates));
        this.emit({ connected: true, manager: addr, sessionId: first.sessionId });
        this.onSessionMessage(first);
        reason = await session.closed;
      } catch (err) {
        reason = err instanceof Error ? err : new Error(String(err));
      }
      this.reporter.setSender(undefined);
      this.logs.closeAll();
      session.close(reason);
      this.session = undefined;
      if (this.stopping.signal.aborted) break;
      this.logger.warn('session with manager ended; trying the next manager', { manager: addr, err: reason.message });
      this.emit({ connected: false, manager: addr, sessionId: session.sessionId, error: reason.message });
      next = this.nextManager(addr, reason);
      await sleep(this.clock, reconnectDelayMs(attempt++, this.rng, this.opts.backoff ?? DEFAULT_BACKOFF), this.stopping.signal);
    }
  }

  /**
   * Where to go after `addr` failed with `reason`: the leader it named, if any (added to the
   * list: a restarted manager node's agent may know only the manager beside it), else the next
   * manager — the one that failed is the least likely to answer now.
   */
  private nextManager(addr: string, reason: Error): number {
    const leader = reason instanceof ManagerCallError ? reason.leader : undefined;
    if (leader && leader !== addr) {
      if (!this.managers.includes(leader)) this.managers = [...this.managers, leader];
      return this.managers.indexOf(leader);
    }
    return (this.managers.indexOf(addr) + 1) % this.managers.length;
  }

  private onSessionMessage(msg: SessionMessage): void {
    const told = msg.managers.map((m) => m.addr).filter((a) => a !== '');
    if (told.length > 0) {
      // The managers' own list first (it is current), then any configured address it lacks,
      // so a cluster that moved entirely can still be found through the configured one.
      this.managers = [...new Set([...told, ...this.opts.managers])];
    }
    if (msg.logSubscriptions.length > 0) this.logs.handle(msg.logSubscriptions);
    try {
      this.opts.onSessionMessage?.(msg);
    } catch (err) {
      this.logger.warn('session message listener failed', { err: String(err) });
    }
  }
}
