// The dispatcher: the leader's side of every agent's session. It composes single-role
// parts, each owning its own state — SessionRegistry (who is connected), HeartbeatTracker
// (deadlines), AssignmentStream (one per node), StatusBatcher (all writes), LogBroker
// (log subscriptions) — and is the only caller of each, from Node's one thread (STYLE 4).
// swarmkit's dispatcher.go holds all of this in one 1,500-line type behind six locks;
// here no lock is needed because every state change is a synchronous step, and after any
// await the code re-checks what it depends on (is the session still current?).
//
// Runs on the Raft leader only (see contract.ts): the host start()s it on becoming leader
// and stop()s it on losing leadership, any number of times; each start() is a new term
// that begins from the store alone (nothing from an earlier term is trusted).
import * as grpc from '@grpc/grpc-js';
import {
  LEADER_HINT_KEY,
  NodeState,
  SessionMessage,
  TaskState,
  type Cluster,
  type DispatcherServer,
  type Node,
  type PublishLogsMessage,
  type SessionRequest,
  type TaskStatusUpdate,
} from '@tswarm/api';
import { StatusError } from '@tswarm/ca';
import { type StoreEvent, type Watcher } from '@tswarm/store';
import { clusterTable, nodesTable, tasksTable } from '../tables.js';
import { AssignmentStream, type AssignmentsSink } from './assignments.js';
import { DEFAULT_HEARTBEAT_MISSES, DEFAULT_HEARTBEAT_PERIOD_MS } from '../cluster-init.js';
import type { DispatcherDeps, TimerHandle } from './contract.js';
import { dispatcherServer } from './grpc-service.js';
import { HeartbeatTracker, jitteredPeriodMs, sweepIntervalMs } from './heartbeats.js';
import { LogBroker, type LogStream, type LogSubscribeOptions } from './logs.js';
import { NetworkViewPublisher } from './network-view-publisher.js';
import { Session, SessionRegistry, type SessionSink } from './session-registry.js';
import { StatusBatcher } from './status-batcher.js';

/** The message a node gets when its heartbeats stopped; also what `node ls` shows. */
export const HEARTBEAT_FAILURE_MESSAGE = 'heartbeat failure';

export class Dispatcher {
  private isRunning = false;
  private readonly sessions = new SessionRegistry();
  private readonly heartbeats: HeartbeatTracker;
  private readonly writer: StatusBatcher;
  private readonly logs: LogBroker;
  private readonly views: NetworkViewPublisher;
  /** Effective settings: the cluster object's when set, else deps.config, else Swarm's defaults. */
  private heartbeatPeriodMs: number;
  private heartbeatMisses: number;
  private sweepTimer: TimerHandle | undefined;
  private watcher: Watcher | undefined;
  /** Fingerprint of deps.managers() when sessions were last told, to notice changes. */
  private managersKey = '';

  constructor(private readonly deps: DispatcherDeps) {
    this.heartbeatPeriodMs = positive(deps.config?.heartbeatPeriodMs) ?? DEFAULT_HEARTBEAT_PERIOD_MS;
    this.heartbeatMisses = positive(deps.config?.heartbeatMisses) ?? DEFAULT_HEARTBEAT_MISSES;
    this.heartbeats = new HeartbeatTracker(this.windowMs);
    this.writer = new StatusBatcher(deps);
    this.views = new NetworkViewPublisher(deps, () => this.assignmentStreams());
    this.logs = new LogBroker({ store: deps.store, logger: deps.logger, newId: deps.newSessionId, notify: (nodeId) => this.notifyNode(nodeId) });
  }

  get running(): boolean {
    return this.isRunning;
  }

  /** Settings in force: what agents are told and how long a node may stay silent. */
  get settings(): { heartbeatPeriodMs: number; heartbeatMisses: number } {
    return { heartbeatPeriodMs: this.heartbeatPeriodMs, heartbeatMisses: this.heartbeatMisses };
  }

  private get windowMs(): number {
    return this.heartbeatPeriodMs * this.heartbeatMisses;
  }

  /** The gRPC service to register on the cluster listener. */
  service(): DispatcherServer {
    return dispatcherServer(this, this.deps.identify, this.deps.logger);
  }

  start(): void {
    if (this.isRunning) return;
    this.isRunning = true;
    this.writer.start();
    const now = this.deps.nowMs();
    const { result, watcher } = this.deps.store.viewAndWatch(
      (tx) => ({ cluster: tx.list(clusterTable)[0]?.object, nodes: tx.list(nodesTable).map((r) => r.object) }),
      { tables: [nodesTable, clusterTable] },
    );
    this.applyCluster(result.cluster);
    // Grace period: a new leader knows nothing of heartbeats sent to the old one, so every
    // node the store believes up gets one full window from now to (re)connect before it is
    // marked DOWN. Unlike swarmkit we do not first write UNKNOWN for every node: that is a
    // write per node on each election and makes `node ls` flap for nodes that are fine.
    for (const n of result.nodes) {
      if (n.status?.state !== NodeState.NODE_STATE_DOWN) this.heartbeats.refresh(n.id, now);
    }
    this.managersKey = managersKey(this.deps.managers());
    this.follow(watcher);
    this.views.start();
    this.armSweep();
    this.deps.logger.info('dispatcher started', { nodes: this.heartbeats.size, ...this.settings });
  }

  /** Ends every stream with UNAVAILABLE (agents reconnect to another manager) and fails queued writes. */
  stop(): void {
    if (!this.isRunning) return;
    this.isRunning = false;
    if (this.sweepTimer !== undefined) this.deps.clearTimer(this.sweepTimer);
    this.sweepTimer = undefined;
    this.watcher?.close();
    this.watcher = undefined;
    this.views.stop();
    const err = this.notLeader('this manager stopped dispatching (leadership moved)');
    this.sessions.endAll(err);
    this.heartbeats.clear(); // the next term starts from the store, with a fresh grace period
    this.writer.stop(err);
    this.logs.closeAll(err);
    this.deps.logger.info('dispatcher stopped');
  }

  /** The host calls this when the manager set changed; sessions get the new list. */
  managersChanged(): void {
    this.managersKey = managersKey(this.deps.managers());
    for (const s of this.sessions.values()) this.sendSessionMessage(s, false);
  }

  // ---- the RPCs, in transport-free terms (grpc-service.ts adapts them) ----

  /**
   * Registers a new session for `nodeId` (replacing its old one), marks the node READY and,
   * once that committed, sends the first SessionMessage. Returns at once; failures end the
   * session's stream.
   */
  openSession(nodeId: string, req: SessionRequest, peerAddr: string, sink: SessionSink): Session {
    this.ensureRunning();
    const now = this.deps.nowMs();
    // A fresh id every time; req.sessionId (the agent's previous one) is informational.
    const session = this.sessions.open(nodeId, this.deps.newSessionId(), sink, now);
    this.heartbeats.refresh(nodeId, now);
    this.deps.logger.debug('session opened', { node: nodeId, session: session.id, addr: peerAddr });
    const ready = this.writer.updateNode(nodeId, {
      state: NodeState.NODE_STATE_READY,
      message: '',
      addr: peerAddr,
      description: req.description,
      createIfMissing: true,
    });
    ready.then(
      () => {
        if (session.ended) return;
        session.established = true;
        this.sendSessionMessage(session, true);
      },
      (err: Error) => this.sessions.end(session, unavailable(`could not mark node ${nodeId} ready (${err.message}); reconnect`)),
    );
    return session;
  }

  /** The client went away: forget the session, but keep the deadline (DOWN if it stays away). */
  sessionClosed(session: Session): void {
    this.sessions.end(session, null);
  }

  heartbeat(nodeId: string, sessionId: string): { periodMs: number } {
    this.ensureRunning();
    this.sessions.require(nodeId, sessionId);
    this.heartbeats.refresh(nodeId, this.deps.nowMs());
    return { periodMs: jitteredPeriodMs(this.heartbeatPeriodMs, this.deps.rng) };
  }

  /** Starts the node's Assignments stream (one per session; a newer one replaces the older). */
  openAssignments(nodeId: string, sessionId: string, sink: AssignmentsSink): AssignmentStream {
    this.ensureRunning();
    const session = this.sessions.require(nodeId, sessionId);
    for (const b of session.bound) {
      if (b instanceof AssignmentStream) {
        session.bound.delete(b);
        b.close(new StatusError(grpc.status.ABORTED, `assignments stream replaced by a newer one of session ${sessionId}`));
      }
    }
    const stream = new AssignmentStream({ ...this.deps, networkView: (id) => this.views.viewFor(id) }, nodeId, sink);
    session.bound.add(stream);
    stream.start();
    return stream;
  }

  private *assignmentStreams(): Iterable<AssignmentStream> {
    for (const s of this.sessions.values()) for (const b of s.bound) if (b instanceof AssignmentStream && !b.isClosed) yield b;
  }

  /** The client went away from its Assignments stream. */
  assignmentsClosed(nodeId: string, stream: AssignmentStream): void {
    this.sessions.current(nodeId)?.bound.delete(stream);
    stream.close(new StatusError(grpc.status.CANCELLED, 'assignments stream cancelled by the agent'));
  }

  /**
   * Validates and queues the node's task reports; resolves once they are committed.
   * PERMISSION_DENIED (nothing queued) if any task belongs to another node.
   */
  async updateTaskStatus(nodeId: string, sessionId: string, updates: readonly TaskStatusUpdate[]): Promise<void> {
    this.ensureRunning();
    this.sessions.require(nodeId, sessionId);
    const now = this.deps.nowMs();
    const accepted = this.deps.store.view((tx) => {
      const out: Array<{ taskId: string; status: NonNullable<TaskStatusUpdate['status']> }> = [];
      for (const u of updates) {
        const task = tx.get(tasksTable, u.taskId)?.object;
        if (!task || !u.status) continue; // deleted meanwhile (e.g. by the reaper)
        if (task.nodeId !== nodeId) {
          throw new StatusError(grpc.status.PERMISSION_DENIED, `task ${u.taskId} is not assigned to node ${nodeId}; a node may only report its own tasks`);
        }
        // REMOVE and ORPHANED are the manager's verdicts, never an agent's report.
        if (u.status.state > TaskState.TASK_STATE_REJECTED) continue;
        if (u.status.state < (task.status?.state ?? TaskState.TASK_STATE_NEW)) continue; // backwards: ignored
        out.push({ taskId: u.taskId, status: { ...u.status, timestampMs: u.status.timestampMs || now } });
      }
      return out;
    });
    if (accepted.length > 0) await this.writer.updateTasks(nodeId, accepted);
  }

  // ---- logs (see logs.ts) ----

  /** Streams log lines of a service's tasks from the agents running them. */
  subscribeLogs(opts: LogSubscribeOptions): LogStream {
    this.ensureRunning();
    return this.logs.subscribe(opts);
  }

  /** An agent's PublishLogs message. */
  publishLogs(nodeId: string, msg: PublishLogsMessage): void {
    this.ensureRunning();
    this.logs.publish(nodeId, msg);
  }

  // ---- internals ----

  private ensureRunning(): void {
    if (!this.isRunning) throw this.notLeader('not the leader');
  }

  /**
   * UNAVAILABLE naming the leader when known, in the message and in the trailers (LEADER_HINT_KEY):
   * the agent reconnects there, else to another manager.
   */
  private notLeader(what: string): StatusError {
    const leader = this.deps.leaderAddr?.();
    const details = `${what}; ${leader ? `the leader is ${leader}` : 'the leader is not known yet'}; reconnect to another manager`;
    if (!leader) return unavailable(details);
    const hint = new grpc.Metadata();
    hint.set(LEADER_HINT_KEY, leader);
    return new StatusError(grpc.status.UNAVAILABLE, details, hint);
  }

  /** Sends the session its SessionMessage if anything in it changed (always when `force`). */
  private sendSessionMessage(session: Session, force: boolean): void {
    if (!session.established || session.ended) return;
    const node = this.deps.store.view((tx) => tx.get(nodesTable, session.nodeId)?.object);
    const msg: SessionMessage = {
      sessionId: session.id,
      nodeSpec: node?.spec,
      managers: this.deps.managers().map((m) => ({ nodeId: m.nodeId, addr: m.addr })),
      heartbeatPeriodMs: this.heartbeatPeriodMs,
      logSubscriptions: [],
    };
    const key = Buffer.from(SessionMessage.encode(msg).finish()).toString('base64');
    // Log subscriptions are deltas (new ones, and closes): they force a send on their own.
    msg.logSubscriptions = this.logs.takeFor(session.nodeId, force);
    if (!force && key === session.lastSentKey && msg.logSubscriptions.length === 0) return;
    session.lastSentKey = key;
    session.sink.send(msg);
  }

  private notifyNode(nodeId: string): void {
    const s = this.sessions.current(nodeId);
    if (s) this.sendSessionMessage(s, false);
  }

  private applyCluster(cluster: Cluster | undefined): void {
    this.heartbeatPeriodMs = positive(cluster?.spec?.heartbeatPeriodMs) ?? positive(this.deps.config?.heartbeatPeriodMs) ?? DEFAULT_HEARTBEAT_PERIOD_MS;
    this.heartbeatMisses = positive(cluster?.spec?.heartbeatMisses) ?? positive(this.deps.config?.heartbeatMisses) ?? DEFAULT_HEARTBEAT_MISSES;
    this.heartbeats.setWindow(this.windowMs);
  }

  /** Follows nodes and the cluster object: spec changes reach sessions, removals end them. */
  private follow(watcher: Watcher): void {
    this.watcher = watcher;
    void (async () => {
      try {
        for await (const ev of watcher) this.onStoreEvent(ev);
      } catch (err) {
        if (this.watcher !== watcher) return; // stopped meanwhile (maybe restarted): not ours
        this.watcher = undefined;
        // Lagged or restored: re-read everything and carry on from the new version.
        this.deps.logger.warn('dispatcher watch failed; re-reading nodes', { err: (err as Error).message });
        const { result, watcher: next } = this.deps.store.viewAndWatch((tx) => tx.list(clusterTable)[0]?.object, {
          tables: [nodesTable, clusterTable],
        });
        this.applyCluster(result);
        for (const s of [...this.sessions.values()]) {
          if (!this.deps.store.view((tx) => tx.get(nodesTable, s.nodeId))) this.nodeRemoved(s.nodeId);
          else this.sendSessionMessage(s, false);
        }
        this.follow(next);
      }
    })();
  }

  private onStoreEvent(ev: StoreEvent): void {
    if (ev.table === clusterTable.name) {
      const before = this.heartbeatPeriodMs;
      this.applyCluster(ev.kind === 'delete' ? undefined : (ev.object as Cluster));
      if (before !== this.heartbeatPeriodMs) {
        this.armSweep();
        for (const s of this.sessions.values()) this.sendSessionMessage(s, false);
      }
      return;
    }
    const node = ev.object as Node;
    if (ev.kind === 'delete') return this.nodeRemoved(node.id);
    // A node that just joined gets one window to connect, like everyone at start.
    if (ev.kind === 'create' && node.status?.state !== NodeState.NODE_STATE_DOWN && !this.heartbeats.has(node.id)) {
      this.heartbeats.refresh(node.id, this.deps.nowMs());
    }
    this.notifyNode(node.id); // sends only if the spec (or anything else it carries) changed
  }

  private nodeRemoved(nodeId: string): void {
    this.heartbeats.forget(nodeId);
    const s = this.sessions.current(nodeId);
    if (s) this.sessions.end(s, new StatusError(grpc.status.PERMISSION_DENIED, `node ${nodeId} was removed from the swarm`));
  }

  private armSweep(): void {
    if (this.sweepTimer !== undefined) this.deps.clearTimer(this.sweepTimer);
    this.sweepTimer = this.deps.setTimer(() => this.sweep(), sweepIntervalMs(this.heartbeatPeriodMs));
  }

  /** The one periodic check: expired heartbeats, and a changed manager list. */
  private sweep(): void {
    this.sweepTimer = undefined;
    if (!this.running) return;
    for (const nodeId of this.heartbeats.expire(this.deps.nowMs())) this.nodeExpired(nodeId);
    if (managersKey(this.deps.managers()) !== this.managersKey) this.managersChanged();
    this.armSweep();
  }

  private nodeExpired(nodeId: string): void {
    const s = this.sessions.current(nodeId);
    const silentMs = this.windowMs;
    if (s) {
      this.sessions.end(s, new StatusError(grpc.status.DEADLINE_EXCEEDED, `no heartbeat from node ${nodeId} for ${silentMs} ms; node marked down, open a new session`));
    }
    this.deps.logger.warn('node missed its heartbeats; marking it down', { node: nodeId, windowMs: silentMs });
    this.writer.updateNode(nodeId, { state: NodeState.NODE_STATE_DOWN, message: HEARTBEAT_FAILURE_MESSAGE }).catch((err: Error) => {
      // Not committed (lost leadership, most likely): the next leader's grace period
      // will expire for this node too and mark it down then.
      this.deps.logger.warn('could not mark node down', { node: nodeId, err: err.message });
    });
  }
}

function positive(n: number | undefined): number | undefined {
  return n !== undefined && Number.isFinite(n) && n > 0 ? n : undefined;
}

function managersKey(ms: ReadonlyArray<{ nodeId: string; addr: string }>): string {
  return ms.map((m) => `${m.nodeId}@${m.addr}`).sort().join(',');
}

function unavailable(details: string): StatusError {
  return new StatusError(grpc.status.UNAVAILABLE, details);
}
