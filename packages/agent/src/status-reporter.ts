// Collects task status changes and sends them to the manager in batches.
// Invariant: for every task, the newest status not yet acknowledged by a manager is either
// pending here or in the one batch in flight; a failed batch is merged back under any newer
// status, so nothing newer is ever overwritten by something older.
import { flushDelayMs, type Logger, type TaskStatus, type TaskStatusUpdate } from '@tswarm/api';
import type { Clock, TimerHandle } from './clock.js';

/**
 * Calls go out at most once per STATUS_FLUSH_MS. The manager writes each call as one Raft
 * entry, so a burst of changes becomes one entry per period, not one per task. The first change
 * after a quiet period goes at once (with whatever the same turn reported): a task reaching
 * RUNNING is what puts it into DNS and the load balancers, and a fixed 100-ms wait here was
 * measured as a fifth of a scaled-up task's way from its container's start to every host's
 * rules (2026-11-27); later changes gather until the period since that call has passed.
 */
export const STATUS_FLUSH_MS = 100;

/** Wait after a failed send before trying again (the session may be reconnecting meanwhile). */
export const STATUS_RETRY_MS = 500;

/** At most this many updates per call: the store splits transactions at 200 actions. */
export const MAX_STATUS_BATCH = 200;

/** Sends one batch; rejects when the manager did not take it. */
export type StatusSender = (updates: TaskStatusUpdate[]) => Promise<void>;

export interface StatusReporterOptions {
  clock: Clock;
  logger: Logger;
  flushMs?: number;
  retryMs?: number;
}

export class StatusReporter {
  private readonly pending = new Map<string, TaskStatus>();
  private sender: StatusSender | undefined;
  private timer: TimerHandle | undefined;
  private inFlight: Promise<void> | undefined;
  private readonly flushMs: number;
  private readonly retryMs: number;
  /** clock.now() when the last call went out. */
  private lastSentAt = -Infinity;

  constructor(private readonly opts: StatusReporterOptions) {
    this.flushMs = opts.flushMs ?? STATUS_FLUSH_MS;
    this.retryMs = opts.retryMs ?? STATUS_RETRY_MS;
  }

  /** Where batches go; undefined while there is no session (updates then wait here). */
  setSender(sender: StatusSender | undefined): void {
    this.sender = sender;
    if (sender && this.pending.size > 0) this.schedule(0);
  }

  /** Queues a task's new status, replacing any older one still waiting. */
  report(taskId: string, status: TaskStatus): void {
    const queued = this.pending.get(taskId);
    if (queued && queued.state > status.state) return;
    this.pending.set(taskId, status);
    this.schedule(this.untilPeriodEnds());
  }

  /** Drops whatever is queued for a task that no longer exists. */
  forget(taskId: string): void {
    this.pending.delete(taskId);
  }

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Sends what is queued now (once the batch in flight, if any, is done). */
  async flush(): Promise<void> {
    this.timer?.cancel();
    this.timer = undefined;
    while (this.inFlight) await this.inFlight;
    if (this.pending.size === 0 || !this.sender) return;
    this.inFlight = this.sendBatch(this.sender);
    try { await this.inFlight; } finally { this.inFlight = undefined; }
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
    this.sender = undefined;
  }

  private schedule(ms: number): void {
    if (this.timer || !this.sender) return;
    this.timer = this.opts.clock.after(ms, () => {
      this.timer = undefined;
      void this.flush();
    });
  }

  /** 0 when the last call is a period ago or more (flushDelayMs, the rule the dispatcher's batchers share). */
  private untilPeriodEnds(): number {
    return flushDelayMs(this.lastSentAt, this.flushMs, this.opts.clock.now());
  }

  private async sendBatch(send: StatusSender): Promise<void> {
    this.lastSentAt = this.opts.clock.now();
    const batch: TaskStatusUpdate[] = [];
    for (const [taskId, status] of this.pending) {
      if (batch.length >= MAX_STATUS_BATCH) break;
      batch.push({ taskId, status });
    }
    for (const u of batch) this.pending.delete(u.taskId);
    try {
      await send(batch);
    } catch (err) {
      for (const u of batch) {
        const newer = this.pending.get(u.taskId);
        if (!newer || newer.state < u.status!.state) this.pending.set(u.taskId, u.status!);
      }
      this.opts.logger.warn('task status report failed; will retry', {
        updates: batch.length, err: err instanceof Error ? err.message : String(err),
      });
      this.scheduleAfterInFlight(this.retryMs);
      return;
    }
    if (this.pending.size > 0) this.scheduleAfterInFlight(this.untilPeriodEnds());
  }

  /** schedule() from inside a batch: the timer must fire after inFlight is cleared. */
  private scheduleAfterInFlight(ms: number): void {
    queueMicrotask(() => this.schedule(ms));
  }
}
