// An in-memory Executor for tests (STYLE.md point 2). Containers are records that "run" until
// a test makes them exit; they survive an Agent being stopped and a new one started on the
// same FakeExecutor, which is how adoption is tested. Every controller call is recorded.
import type { LogMessage, NodeDescription, Task } from '@tswarm/api';
import {
  ContainerNotFoundError,
  ExecutorError,
  type ContainerObservation,
  type Executor,
  type ExitStatus,
  type LogOptions,
  type ManagedContainer,
  type TaskController,
} from './executor.js';

export interface FakeContainer {
  id: string;
  taskId: string;
  nodeId: string;
  image: string;
  state: 'created' | 'running' | 'exited';
  exitCode: number;
  pid: number;
  lines: Array<{ stderr: boolean; text: string }>;
  /** Resolvers of pending wait() calls. */
  waiters: Array<(s: ExitStatus) => void>;
}

export type FakeOp = 'prepare' | 'start' | 'wait' | 'shutdown' | 'remove';

export interface FakeExecutorOptions {
  nodeId?: string;
  description?: Partial<NodeDescription>;
  /** Images that are "present"; prepare() of any other fails like a failed pull. */
  images?: string[];
}

export class FakeExecutor implements Executor {
  readonly containers = new Map<string, FakeContainer>();
  /** Every call, as "op taskId", in order. */
  readonly calls: string[] = [];
  readonly images: Set<string>;
  readonly nodeId: string;
  /** Exit code a container gets when shut down (SIGTERM/SIGKILL, like Docker's 137). */
  shutdownExitCode = 137;
  private readonly failures = new Map<string, Error>();
  private nextId = 1;

  constructor(private readonly opts: FakeExecutorOptions = {}) {
    this.nodeId = opts.nodeId ?? 'node-1';
    this.images = new Set(opts.images ?? ['tswarm/busybox:latest']);
  }

  async describe(): Promise<NodeDescription> {
    return {
      hostname: 'fake-host', os: 'linux', architecture: 'x86_64',
      resources: { nanoCpus: 2e9, memoryBytes: 4 * 2 ** 30 }, engineVersion: 'fake', ...this.opts.description,
    };
  }

  controller(task: Task): TaskController {
    return new FakeController(this, task);
  }

  async listManaged(): Promise<ManagedContainer[]> {
    return [...this.containers.values()]
      .filter((c) => c.nodeId === this.nodeId)
      .map((c) => ({ taskId: c.taskId, containerId: c.id, running: c.state === 'running' }));
  }

  async removeManaged(containerId: string): Promise<void> {
    for (const c of this.containers.values()) {
      if (c.id !== containerId) continue;
      this.calls.push(`removeManaged ${c.taskId}`);
      this.finish(c, this.shutdownExitCode);
      this.containers.delete(c.taskId);
    }
  }

  /** Makes the next `op` for `taskId` fail with `err`. */
  failNext(op: FakeOp, taskId: string, err: Error): void {
    this.failures.set(`${op} ${taskId}`, err);
  }

  /** The container's process exits with `exitCode` (as if it ended on its own). */
  exit(taskId: string, exitCode: number): void {
    const c = this.containers.get(taskId);
    if (!c) throw new Error(`fake executor: no container for task ${taskId}`);
    this.finish(c, exitCode);
  }

  /** Appends a line to the container's output. */
  log(taskId: string, text: string, stderr = false): void {
    this.containers.get(taskId)?.lines.push({ stderr, text });
  }

  count(op: string, taskId?: string): number {
    return this.calls.filter((c) => c === `${op} ${taskId}` || (!taskId && c.startsWith(`${op} `))).length;
  }

  /** @internal used by FakeController */
  record(op: FakeOp, taskId: string): void {
    this.calls.push(`${op} ${taskId}`);
    const err = this.failures.get(`${op} ${taskId}`);
    if (err) {
      this.failures.delete(`${op} ${taskId}`);
      throw err;
    }
  }

  /** @internal */
  create(task: Task): FakeContainer {
    const image = task.spec?.container?.image ?? '';
    if (!this.images.has(image)) throw new ExecutorError(`No such image: ${image}`);
    const c: FakeContainer = {
      id: `fake${String(this.nextId++).padStart(12, '0')}`, taskId: task.id, nodeId: this.nodeId, image,
      state: 'created', exitCode: 0, pid: 0, lines: [], waiters: [],
    };
    this.containers.set(task.id, c);
    return c;
  }

  /** @internal */
  finish(c: FakeContainer, exitCode: number): void {
    if (c.state !== 'running') return;
    c.state = 'exited';
    c.exitCode = exitCode;
    c.pid = 0;
    for (const w of c.waiters.splice(0)) w({ exitCode });
  }
}

class FakeController implements TaskController {
  constructor(private readonly ex: FakeExecutor, private readonly task: Task) {}

  private container(): FakeContainer | undefined {
    return this.ex.containers.get(this.task.id);
  }

  async prepare(): Promise<void> {
    this.ex.record('prepare', this.task.id);
    if (!this.container()) this.ex.create(this.task);
  }

  async start(): Promise<void> {
    this.ex.record('start', this.task.id);
    const c = this.container();
    if (!c) throw new ContainerNotFoundError(this.task.id);
    if (c.state === 'running') return;
    if (c.state === 'exited') throw new ExecutorError(`container ${c.id} has already run; it cannot be restarted`);
    c.state = 'running';
    c.pid = 1000 + Number(c.id.slice(4));
  }

  async wait(): Promise<ExitStatus> {
    this.ex.record('wait', this.task.id);
    const c = this.container();
    if (!c) throw new ContainerNotFoundError(this.task.id);
    if (c.state === 'exited') return { exitCode: c.exitCode };
    return new Promise((resolve) => c.waiters.push(resolve));
  }

  async shutdown(_graceMs: number): Promise<void> {
    this.ex.record('shutdown', this.task.id);
    const c = this.container();
    if (c) this.ex.finish(c, this.ex.shutdownExitCode);
  }

  async remove(): Promise<void> {
    this.ex.record('remove', this.task.id);
    const c = this.container();
    if (!c) return;
    this.ex.finish(c, this.ex.shutdownExitCode);
    this.ex.containers.delete(this.task.id);
  }

  async inspect(): Promise<ContainerObservation> {
    const c = this.container();
    if (!c) return { exists: false, containerId: '', running: false, pid: 0, exitCode: 0 };
    return { exists: true, containerId: c.id, running: c.state === 'running', pid: c.pid, exitCode: c.exitCode };
  }

  /** The lines logged so far (the fake does not follow: it ends after them). */
  logs(opts: LogOptions): AsyncIterable<LogMessage> {
    const c = this.container();
    if (!c) throw new ContainerNotFoundError(this.task.id);
    const lines = opts.tail >= 0 ? c.lines.slice(-opts.tail || c.lines.length) : [...c.lines];
    const task = this.task;
    return (async function* () {
      for (const l of lines) {
        yield {
          taskId: task.id, nodeId: task.nodeId, slot: task.slot, timestampMs: 0,
          stderr: l.stderr, data: Buffer.from(l.text + '\n'),
        };
      }
    })();
  }
}
