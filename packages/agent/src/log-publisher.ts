// Answers the manager's log subscriptions (SessionMessage.logSubscriptions): for each one,
// stream the matching tasks' container output through one PublishLogs call, then a closing
// message. A subscription ends when its output ends (no follow), when the manager closes it,
// or when the session ends; the manager re-sends live subscriptions on a new session.
import type { ClientWritableStream } from '@grpc/grpc-js';
import type { LogMessage, LogSubscription, Logger, PublishLogsMessage, Task } from '@tswarm/api';
import type { Clock, TimerHandle } from './clock.js';
import type { LogOptions, TaskController } from './executor.js';

/**
 * Lines gather this long before one PublishLogs message carries them: a burst of output
 * becomes a few messages, while a line typed into a followed log still shows up at once.
 */
export const LOG_FLUSH_MS = 50;

/** A message carries at most this many lines, so one noisy task cannot make huge frames. */
export const MAX_LOG_BATCH = 256;

export interface LogPublisherOptions {
  clock: Clock;
  logger: Logger;
  /** The tasks on this node and their controllers. */
  tasks(): Array<{ task: Task; controller: TaskController }>;
  /** Opens a PublishLogs stream on the current session, or undefined without one. */
  open(done: (err: Error | null) => void): ClientWritableStream<PublishLogsMessage> | undefined;
}

export class LogPublisher {
  private readonly active = new Map<string, AbortController>();

  constructor(private readonly opts: LogPublisherOptions) {}

  /** Starts new subscriptions and ends closed ones. */
  handle(subs: LogSubscription[]): void {
    for (const sub of subs) {
      if (sub.close) {
        this.active.get(sub.id)?.abort();
        continue;
      }
      if (this.active.has(sub.id)) continue;
      const abort = new AbortController();
      this.active.set(sub.id, abort);
      void this.publish(sub, abort.signal).finally(() => {
        if (this.active.get(sub.id)?.signal === abort.signal) this.active.delete(sub.id);
      });
    }
  }

  /** Ends every subscription (the session ended). */
  closeAll(): void {
    for (const a of this.active.values()) a.abort();
    this.active.clear();
  }

  get activeCount(): number {
    return this.active.size;
  }

  private async publish(sub: LogSubscription, signal: AbortSignal): Promise<void> {
    const matching = this.opts.tasks().filter(
      ({ task }) => sub.taskIds.includes(task.id) || (sub.serviceId !== '' && task.serviceId === sub.serviceId),
    );
    const stream = this.opts.open((err) => {
      if (err) this.opts.logger.debug('log subscription ended by the manager', { subscription: sub.id, err: err.message });
    });
    if (!stream) return;
    signal.addEventListener('abort', () => stream.end(), { once: true });

    let buffer: LogMessage[] = [];
    let timer: TimerHandle | undefined;
    const flush = () => {
      timer?.cancel();
      timer = undefined;
      if (buffer.length === 0 || signal.aborted) return;
      stream.write({ subscriptionId: sub.id, messages: buffer, close: false });
      buffer = [];
    };
    const push = (m: LogMessage) => {
      buffer.push(m);
      if (buffer.length >= MAX_LOG_BATCH) flush();
      else timer ??= this.opts.clock.after(LOG_FLUSH_MS, flush);
    };
    const opts: LogOptions = { follow: sub.follow, tail: sub.tail === 0 ? -1 : sub.tail };
    await Promise.all(matching.map(({ task, controller }) => this.pump(task, controller, opts, push, signal)));
    flush();
    if (!signal.aborted) {
      stream.write({ subscriptionId: sub.id, messages: [], close: true });
      stream.end();
    }
  }

  /** Copies one task's log lines to `push` until they end or `signal` aborts. */
  private async pump(task: Task, controller: TaskController, opts: LogOptions,
    push: (m: LogMessage) => void, signal: AbortSignal): Promise<void> {
    let it: AsyncIterator<LogMessage>;
    try {
      it = controller.logs(opts)[Symbol.asyncIterator]();
    } catch (err) {
      this.opts.logger.warn('reading task logs failed', { task: task.id, err: err instanceof Error ? err.message : String(err) });
      return;
    }
    const aborted = new Promise<'aborted'>((resolve) => {
      if (signal.aborted) resolve('aborted');
      signal.addEventListener('abort', () => resolve('aborted'), { once: true });
    });
    try {
      for (;;) {
        const next = await Promise.race([it.next(), aborted]);
        if (next === 'aborted' || next.done) break;
        push(next.value);
      }
    } catch (err) {
      this.opts.logger.warn('reading task logs failed', { task: task.id, err: err instanceof Error ? err.message : String(err) });
    } finally {
      // Not awaited: with follow, a next() may still be pending, and the contract lets
      // return() end it (releasing the engine's stream) without waiting for another line.
      void it.return?.(undefined)?.catch(() => {});
    }
  }
}
