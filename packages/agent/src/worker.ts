// Applies the manager's assignments to this node: one TaskRunner per assigned task.
// A complete set reconciles everything (tasks not in it are removed, containers this node
// made for tasks that no longer exist are removed, containers of known tasks are adopted);
// an incremental message applies its changes. Assignments are applied one message at a time,
// in order, by a single queue: the worker is the only owner of the runner map.
import {
  AssignmentChange_Action,
  AssignmentsMessage_Type,
  TaskState,
  type AssignmentsMessage,
  type Logger,
  type Task,
} from '@tswarm/api';
import type { Clock } from './clock.js';
import type { Dataplane } from './dataplane.js';
import type { Executor, ManagedContainer } from './executor.js';
import type { StatusReporter } from './status-reporter.js';
import { TaskRunner } from './task-runner.js';
import { isTerminal } from './task-state.js';

export interface WorkerOptions {
  executor: Executor;
  reporter: StatusReporter;
  clock: Clock;
  logger: Logger;
  /** Plumbs containers into their networks; absent, containers keep the engine's own networking. */
  dataplane?: Dataplane;
}

export class Worker {
  private readonly runners = new Map<string, TaskRunner>();
  private queue: Promise<void> = Promise.resolve();
  private stopped = false;
  /** The data plane's leftovers are swept once, after the first complete set. */
  private swept = false;

  constructor(private readonly opts: WorkerOptions) {}

  /** Applies one assignments message after every earlier one; resolves when it is applied. */
  apply(msg: AssignmentsMessage): Promise<void> {
    const run = async () => {
      if (this.stopped) return;
      // The view first: tasks of this message may be plumbed into networks it describes.
      if (msg.networkView) this.opts.dataplane?.setView(msg.networkView);
      if (msg.type === AssignmentsMessage_Type.TYPE_COMPLETE) {
        await this.reconcile(msg.changes.map((c) => c.task).filter((t): t is Task => !!t));
      } else {
        for (const c of msg.changes) {
          if (!c.task) continue;
          if (c.action === AssignmentChange_Action.ACTION_REMOVE) this.removeTask(c.task.id);
          else this.upsert(c.task, undefined);
        }
      }
    };
    this.queue = this.queue.then(run, run);
    return this.queue.catch((err) => {
      this.opts.logger.error('applying assignments failed', { err: err instanceof Error ? err.message : String(err) });
    });
  }

  /** The tasks this node currently runs or holds (not those being removed). */
  tasks(): Task[] {
    return [...this.runners.values()].filter((r) => !r.isRemoved).map((r) => r.task);
  }

  /** The runner of a task, for log streaming and tests. */
  runner(taskId: string): TaskRunner | undefined {
    return this.runners.get(taskId);
  }

  /** Stops driving every task; containers are left as they are, to be adopted on restart. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.queue.catch(() => {});
    for (const r of this.runners.values()) r.stop();
    this.runners.clear();
  }

  private async reconcile(tasks: Task[]): Promise<void> {
    const wanted = new Map(tasks.map((t) => [t.id, t]));
    for (const id of this.runners.keys()) if (!wanted.has(id)) this.removeTask(id);

    let managed: ManagedContainer[] = [];
    try {
      managed = await this.opts.executor.listManaged();
    } catch (err) {
      // Without the list we cannot adopt or clean up, but the runners still work: every
      // controller step is idempotent, so a running container is found again by start().
      this.opts.logger.warn('listing this node\'s containers failed; skipping adoption and clean-up', {
        err: err instanceof Error ? err.message : String(err),
      });
    }
    const byTask = new Map(managed.map((c) => [c.taskId, c]));
    for (const t of tasks) this.upsert(t, byTask.get(t.id));
    if (!this.swept && this.opts.dataplane) {
      this.swept = true;
      // Containers still present (running or not) keep their handles; the rest is leftover.
      const keep = new Set([...this.runners.keys(), ...managed.map((c) => c.taskId)]);
      void this.opts.dataplane.sweep(keep).catch((err) => this.opts.logger.warn('sweeping leftover network state failed', { err: String(err) }));
    }

    for (const c of managed) {
      if (wanted.has(c.taskId) || this.runners.has(c.taskId)) continue;
      this.opts.logger.info('removing container of a task no longer assigned here', { task: c.taskId, container: c.containerId });
      this.opts.executor.removeManaged(c.containerId).catch((err) => {
        this.opts.logger.warn('removing an orphaned container failed; the next complete set retries', {
          container: c.containerId, err: err instanceof Error ? err.message : String(err),
        });
      });
    }
  }

  /**
   * Creates or updates the runner of an assigned task. `container` is what listManaged()
   * found for it (complete sets only). On a resync, a local status ahead of the manager's
   * record is reported again: the update may have been lost with the old session.
   */
  private upsert(task: Task, container: ManagedContainer | undefined): void {
    if (this.stopped) return;
    const existing = this.runners.get(task.id);
    if (existing) {
      if (existing.isRemoved) return; // being removed; the manager removed it before
      existing.update(task);
      const recorded = task.status?.state ?? TaskState.TASK_STATE_NEW;
      if (existing.status.state > recorded) this.opts.reporter.report(task.id, existing.status);
      return;
    }
    const recorded = task.status?.state ?? TaskState.TASK_STATE_NEW;
    const strayRunning = !!container?.running && isTerminal(recorded);
    if (container?.running && !strayRunning) {
      this.opts.logger.info('adopting running container', { task: task.id, container: container.containerId });
    }
    const runner = new TaskRunner(task, {
      controller: this.opts.executor.controller(task),
      clock: this.opts.clock,
      logger: this.opts.logger,
      report: (id, status) => this.opts.reporter.report(id, status),
      dataplane: this.opts.dataplane,
    }, strayRunning);
    this.runners.set(task.id, runner);
  }

  private removeTask(taskId: string): void {
    const runner = this.runners.get(taskId);
    if (!runner || runner.isRemoved) return;
    this.opts.reporter.forget(taskId);
    void runner.remove().then(() => {
      if (this.runners.get(taskId) === runner) this.runners.delete(taskId);
    });
  }
}
