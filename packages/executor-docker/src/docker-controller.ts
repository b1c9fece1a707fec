// One task's container through the Docker Engine API. The container is addressed by its
// deterministic name (container-config.ts), which makes every step idempotent: after an agent
// restart, prepare() finds the existing container and start() the running one.
import type { LogMessage, Logger, Task } from '@tswarm/api';
import {
  ContainerNotFoundError,
  ExecutorError,
  type ContainerObservation,
  type ExitStatus,
  type LogOptions,
  type TaskController,
} from '@tswarm/agent';
import type Docker from 'dockerode';
import { containerName, createOptions, graceSeconds, type ContainerNetworking } from './container-config.js';
import { dockerMessage, statusOf, toExecutorError } from './docker-errors.js';
import { LogDemuxer, type LogLine } from './log-stream.js';

export interface ControllerContext {
  docker: Docker;
  nodeId: string;
  lab: string | undefined;
  networking: ContainerNetworking | undefined;
  logger: Logger;
  /** For error messages: where the engine was expected. */
  socketPath: string;
}

export class DockerTaskController implements TaskController {
  readonly name: string;

  constructor(private readonly ctx: ControllerContext, private readonly task: Task) {
    this.name = containerName(task);
  }

  private get container(): Docker.Container {
    return this.ctx.docker.getContainer(this.name);
  }

  private fail(err: unknown): ExecutorError {
    return statusOf(err) === 404 && /no such container/i.test(dockerMessage(err))
      ? new ContainerNotFoundError(this.task.id)
      : toExecutorError(err, this.ctx.socketPath);
  }

  async prepare(): Promise<void> {
    const opts = createOptions(this.task, this.ctx.nodeId, this.ctx.lab, this.ctx.networking);
    try {
      await this.ctx.docker.createContainer(opts);
      return;
    } catch (err) {
      if (statusOf(err) === 409) return; // the name is taken: our container already exists
      if (statusOf(err) !== 404) throw this.fail(err);
    }
    // 404 on create: the image is not here. Unlike Swarm, which pulls before every create to
    // refresh mutable tags, we pull only a missing image: a registry that is down (or, in the
    // lab, absent) then never delays tasks whose image is already present.
    await this.pull(opts.Image!);
    try {
      await this.ctx.docker.createContainer(opts);
    } catch (err) {
      if (statusOf(err) === 409) return;
      // Still missing after a failed pull: Docker's "No such image: nginx:latest" is the
      // message, as Swarm shows it; the pull's own failure went to the log.
      throw this.fail(err);
    }
  }

  /** Pulls an image, logging (not throwing) a failure: the create that follows tells. */
  private async pull(image: string): Promise<void> {
    const log = this.ctx.logger;
    try {
      const stream = await this.ctx.docker.pull(image);
      const output = await new Promise<Array<{ error?: string }>>((resolve, reject) => {
        this.ctx.docker.modem.followProgress(stream, (err: Error | null, out: Array<{ error?: string }>) => {
          if (err) reject(err); else resolve(out);
        });
      });
      const failed = output.find((o) => o.error);
      if (failed) throw new Error(failed.error);
      log.info('pulled image', { image, task: this.task.id });
    } catch (err) {
      log.warn('pulling image failed', { image, task: this.task.id, err: dockerMessage(err) });
    }
  }

  async start(): Promise<void> {
    try {
      await this.container.start();
    } catch (err) {
      if (statusOf(err) === 304) return; // already started
      throw this.fail(err);
    }
  }

  async wait(): Promise<ExitStatus> {
    try {
      const res = (await this.container.wait()) as { StatusCode: number };
      return { exitCode: res.StatusCode };
    } catch (err) {
      throw this.fail(err);
    }
  }

  async shutdown(graceMs: number): Promise<void> {
    try {
      // The stop signal was set at create time (StopSignal); Docker sends it, waits `t`
      // seconds, then SIGKILL.
      await this.container.stop({ t: graceSeconds(graceMs) });
    } catch (err) {
      const s = statusOf(err);
      if (s === 304 || s === 404) return; // not running, or no container: nothing to stop
      throw this.fail(err);
    }
  }

  async remove(): Promise<void> {
    try {
      await this.container.remove({ force: true, v: true });
    } catch (err) {
      const s = statusOf(err);
      if (s === 404) return;
      if (s === 409 && /already in progress/i.test(dockerMessage(err))) return;
      throw this.fail(err);
    }
  }

  async inspect(): Promise<ContainerObservation> {
    try {
      const info = await this.container.inspect();
      return {
        exists: true, containerId: info.Id, running: info.State.Running,
        pid: info.State.Pid ?? 0, exitCode: info.State.ExitCode ?? 0,
      };
    } catch (err) {
      if (statusOf(err) === 404) return { exists: false, containerId: '', running: false, pid: 0, exitCode: 0 };
      throw this.fail(err);
    }
  }

  logs(opts: LogOptions): AsyncIterable<LogMessage> {
    const task = this.task;
    const toMessage = (l: LogLine): LogMessage => ({
      taskId: task.id, nodeId: task.nodeId, slot: task.slot, timestampMs: l.timestampMs, stderr: l.stderr, data: l.data,
    });
    const query = { stdout: true, stderr: true, timestamps: true, ...(opts.tail >= 0 ? { tail: opts.tail } : {}) };
    const open = async (): Promise<NodeJS.ReadableStream | Buffer> => {
      try {
        return opts.follow
          ? await this.container.logs({ ...query, follow: true })
          : await this.container.logs({ ...query, follow: false });
      } catch (err) {
        throw this.fail(err);
      }
    };
    return { [Symbol.asyncIterator]: () => new LogIterator(open, toMessage) };
  }
}

/**
 * Iterates a container's log lines. Not an async generator on purpose: return() must end a
 * pending next() at once (a followed log may not produce another line for hours), which a
 * generator cannot do while it is suspended in an await.
 */
class LogIterator implements AsyncIterator<LogMessage> {
  private readonly queue: LogMessage[] = [];
  private readonly demux = new LogDemuxer();
  private stream: NodeJS.ReadableStream | undefined;
  private opening: Promise<void> | undefined;
  private done = false;
  private error: unknown;
  private waiter: (() => void) | undefined;

  constructor(
    private readonly open: () => Promise<NodeJS.ReadableStream | Buffer>,
    private readonly toMessage: (l: LogLine) => LogMessage,
  ) {}

  async next(): Promise<IteratorResult<LogMessage>> {
    this.opening ??= this.start();
    await this.opening;
    while (this.queue.length === 0 && !this.done && this.error === undefined) {
      await new Promise<void>((resolve) => { this.waiter = resolve; });
    }
    if (this.queue.length > 0) return { done: false, value: this.queue.shift()! };
    if (this.error !== undefined) { const e = this.error; this.error = undefined; this.done = true; throw e; }
    return { done: true, value: undefined };
  }

  async return(): Promise<IteratorResult<LogMessage>> {
    this.finish();
    this.queue.length = 0;
    const s = this.stream as (NodeJS.ReadableStream & { destroy?: () => void }) | undefined;
    s?.destroy?.();
    return { done: true, value: undefined };
  }

  private async start(): Promise<void> {
    const res = await this.open();
    if (Buffer.isBuffer(res)) {
      this.push([...this.demux.push(res), ...this.demux.end()]);
      this.finish();
      return;
    }
    if (this.done) { (res as { destroy?: () => void }).destroy?.(); return; }
    this.stream = res;
    res.on('data', (chunk: Buffer) => this.push(this.demux.push(chunk)));
    res.on('end', () => { this.push(this.demux.end()); this.finish(); });
    res.on('close', () => this.finish());
    res.on('error', (err: Error) => { this.error = err; this.wake(); });
  }

  private push(lines: LogLine[]): void {
    if (this.done) return;
    for (const l of lines) this.queue.push(this.toMessage(l));
    this.wake();
  }

  private finish(): void {
    this.done = true;
    this.wake();
  }

  private wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }
}
