// One session with one manager's Dispatcher: open the Session stream, then heartbeat at the
// period the manager gives, receive assignments, and carry status and log calls. Any failure
// of any of these ends the session; the Agent then connects to another manager. A Session is
// never reused: reconnecting means a new Session (and a new complete set of assignments).
import { Metadata, type ChannelCredentials, type ClientReadableStream, type ClientWritableStream, type ServiceError } from '@grpc/grpc-js';
import {
  DispatcherClient,
  LEADER_HINT_KEY,
  type AssignmentsMessage,
  type Logger,
  type NodeDescription,
  type PublishLogsMessage,
  type SessionMessage,
  type TaskStatusUpdate,
} from '@tswarm/api';
import { NODE_CHANNEL_OPTIONS } from '@tswarm/ca';
import type { Clock, Rng, TimerHandle } from './clock.js';
import { heartbeatDelayMs, SESSION_OPEN_TIMEOUT_MS } from './timing.js';

/**
 * Deadline of one UpdateTaskStatus call. The manager answers once the batch is committed
 * (one Raft entry, milliseconds when healthy); past this the manager is presumably stuck and
 * the reporter retries, on a new session if this one is failing too.
 */
export const STATUS_CALL_TIMEOUT_MS = 5_000;

export interface SessionOptions {
  addr: string;
  credentials: ChannelCredentials;
  description: NodeDescription;
  clock: Clock;
  rng: Rng;
  logger: Logger;
  /** Every SessionMessage after the first (the first is open()'s result). */
  onMessage(msg: SessionMessage): void;
  /** Every assignments message, in order; the first is a complete set. */
  onAssignments(msg: AssignmentsMessage): void;
  openTimeoutMs?: number;
}

export class Session {
  private readonly client: DispatcherClient;
  private sessionCall: ClientReadableStream<SessionMessage> | undefined;
  private assignmentsCall: ClientReadableStream<AssignmentsMessage> | undefined;
  private heartbeatTimer: TimerHandle | undefined;
  private periodMs = 0;
  private ended = false;
  private endSession!: (reason: Error) => void;
  /** Resolves (never rejects) with the reason once the session has ended. */
  readonly closed: Promise<Error>;
  sessionId = '';

  constructor(private readonly opts: SessionOptions) {
    // Managers are dialled by IP; a fixed TLS server name keeps Node from warning (DEP0123).
    this.client = new DispatcherClient(opts.addr, opts.credentials, NODE_CHANNEL_OPTIONS);
    this.closed = new Promise((resolve) => { this.endSession = resolve; });
  }

  get addr(): string { return this.opts.addr; }

  /**
   * Opens the session and starts heartbeats and assignments. Resolves with the manager's
   * first SessionMessage; rejects (and closes) when the manager does not answer in time.
   */
  open(): Promise<SessionMessage> {
    const timeoutMs = this.opts.openTimeoutMs ?? SESSION_OPEN_TIMEOUT_MS;
    return new Promise<SessionMessage>((resolve, reject) => {
      let first = true;
      const timer = this.opts.clock.after(timeoutMs, () => {
        fail(new Error(`manager ${this.addr} did not open a session within ${timeoutMs} ms`));
      });
      const fail = (err: Error) => {
        timer.cancel();
        this.close(err);
        if (first) { first = false; reject(err); }
      };
      const call = this.client.session({ description: this.opts.description, sessionId: '' });
      this.sessionCall = call;
      call.on('data', (msg: SessionMessage) => {
        if (first) {
          first = false;
          timer.cancel();
          this.sessionId = msg.sessionId;
          this.periodMs = msg.heartbeatPeriodMs;
          this.watchAssignments();
          this.scheduleHeartbeat();
          resolve(msg);
          return;
        }
        if (this.ended) return;
        if (msg.heartbeatPeriodMs > 0) this.periodMs = msg.heartbeatPeriodMs;
        this.opts.onMessage(msg);
      });
      call.on('error', (err: ServiceError) => fail(describe('session stream', this.addr, err)));
      call.on('end', () => fail(new Error(`manager ${this.addr} ended the session`)));
    });
  }

  /** Sends one batch of task status updates on this session. */
  sendStatus(updates: TaskStatusUpdate[]): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.ended) return reject(new Error('session closed'));
      const deadline = this.opts.clock.now() + STATUS_CALL_TIMEOUT_MS;
      this.client.updateTaskStatus({ sessionId: this.sessionId, updates }, new Metadata(), { deadline }, (err) => {
        if (err) reject(describe('status update', this.addr, err)); else resolve();
      });
    });
  }

  /** A PublishLogs stream on this session's connection; `done` is called once it finishes. */
  publishLogs(done: (err: Error | null) => void): ClientWritableStream<PublishLogsMessage> {
    return this.client.publishLogs((err) => done(err ? describe('log publishing', this.addr, err) : null));
  }

  /** Ends the session (idempotent); `closed` resolves with `reason`. */
  close(reason: Error = new Error('session closed by the agent')): void {
    if (this.ended) return;
    this.ended = true;
    this.heartbeatTimer?.cancel();
    this.sessionCall?.cancel();
    this.assignmentsCall?.cancel();
    this.client.close();
    this.endSession(reason);
  }

  private watchAssignments(): void {
    const call = this.client.assignments({ sessionId: this.sessionId });
    this.assignmentsCall = call;
    call.on('data', (msg: AssignmentsMessage) => {
      if (!this.ended) this.opts.onAssignments(msg); // nothing from a session already given up
    });
    call.on('error', (err: ServiceError) => this.close(describe('assignments stream', this.addr, err)));
    call.on('end', () => this.close(new Error(`manager ${this.addr} ended the assignments stream`)));
  }

  private scheduleHeartbeat(): void {
    if (this.ended) return;
    const delay = heartbeatDelayMs(this.periodMs, this.opts.rng);
    this.heartbeatTimer = this.opts.clock.after(delay, () => this.heartbeat());
  }

  private heartbeat(): void {
    if (this.ended) return;
    // The answer must arrive before the heartbeat is due, or the manager counts a miss.
    const deadline = this.opts.clock.now() + Math.max(this.periodMs, 1000);
    this.client.heartbeat({ sessionId: this.sessionId }, new Metadata(), { deadline }, (err, res) => {
      if (err) return this.close(describe('heartbeat', this.addr, err));
      if (res.periodMs > 0) this.periodMs = res.periodMs;
      this.scheduleHeartbeat();
    });
  }
}

/** A manager call that failed; `leader`: the leader's address, when the manager named it (LEADER_HINT_KEY). */
export class ManagerCallError extends Error {
  constructor(message: string, readonly leader?: string) {
    super(message);
  }
}

/** A one-line error naming the manager and the call, for logs and `onSessionChange`. */
function describe(what: string, addr: string, err: ServiceError | Error): ManagerCallError {
  const details = 'details' in err && err.details ? err.details : err.message;
  const [leader] = 'metadata' in err && err.metadata ? err.metadata.get(LEADER_HINT_KEY) : [];
  return new ManagerCallError(`${what} with manager ${addr} failed: ${details}`, typeof leader === 'string' && leader !== '' ? leader : undefined);
}
