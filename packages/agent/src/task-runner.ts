// One task's life on this node: a loop that asks the pure state machine (task-state.ts) for
// the next step, performs it through the task's controller, and reports each new status.
// The runner is the only owner of its task's local status and of its controller.
import { TaskState, type EndpointReceive, type Logger, type Task, type TaskStatus } from '@tswarm/api';
import { type Clock, sleep } from './clock.js';
import type { Dataplane } from './dataplane.js';
import { ExecutorError, type ExitStatus, type TaskController } from './executor.js';
import { afterStep, exitStatus, failedState, isTerminal, makeStatus, nextStep } from './task-state.js';

/** Docker's default stop grace period, used when the spec leaves it at 0. */
export const DEFAULT_STOP_GRACE_MS = 10_000;

/**
 * How long to wait before retrying a step that failed for a reason unrelated to the task
 * (ExecutorError.temporary, or a failed stop/remove): an engine restart takes seconds, and
 * retrying faster only fills the log.
 */
export const TEMPORARY_RETRY_MS = 1_000;

export interface TaskRunnerDeps {
  controller: TaskController;
  clock: Clock;
  logger: Logger;
  /** Called with every new status, in order. */
  report(taskId: string, status: TaskStatus): void;
  /** Plumbs the container into its networks once its process exists; absent: the engine's networking. */
  dataplane?: Dataplane;
}

function sameReceive(a: readonly EndpointReceive[], b: readonly EndpointReceive[]): boolean {
  return a.length === b.length && a.every((r, i) => r.networkId === b[i]!.networkId && r.vni === b[i]!.vni);
}

type Settled = { ok: true; value: ExitStatus } | { ok: false; error: unknown };

export class TaskRunner {
  private current: Task;
  /** Invariant: only moves forward (state never decreases). */
  private local: TaskStatus;
  private removed = false;
  private stopped = false;
  private containerId = '';
  /** The running container is plumbed into its networks (after start, or on adoption). */
  private plumbed = false;
  /** What the data plane said reaches the plumbed container directly; reported with every status. */
  private receive: EndpointReceive[] = [];
  /** A pending controller.wait(), kept across wake-ups so one exit is never waited for twice. */
  private pendingWait: Promise<Settled> | undefined;
  private wake: () => void = () => {};
  private readonly stopping = new AbortController();
  private readonly finished: Promise<void>;

  /**
   * `task.status` is where the runner starts: the manager's record, so a restarted agent
   * continues where it left off (every controller method is idempotent).
   * `stopStrayContainer`: the task is already terminal but its container still runs (it was
   * adopted after a restart); stop it quietly, without reporting anything.
   */
  constructor(task: Task, private readonly deps: TaskRunnerDeps, stopStrayContainer = false) {
    this.current = task;
    this.local = task.status ?? makeStatus(TaskState.TASK_STATE_ASSIGNED, deps.clock.now());
    this.containerId = this.local.container?.containerId ?? '';
    this.finished = this.run(stopStrayContainer);
  }

  get task(): Task { return this.current; }
  get status(): TaskStatus { return this.local; }
  get isRemoved(): boolean { return this.removed; }
  get controller(): TaskController { return this.deps.controller; }

  /** A new version of the assignment (desired state or spec changed). */
  update(task: Task): void {
    this.current = task;
    this.wake();
  }

  /** The assignment is gone: stop and remove the container. Resolves when done. */
  remove(): Promise<void> {
    this.removed = true;
    this.wake();
    return this.finished;
  }

  /**
   * Stops driving the task without touching its container (the agent is shutting down).
   * Does not wait for a step in flight (a pull or a stop may take long); whatever it reports
   * afterwards goes nowhere, and the next agent replays the task from the manager's record.
   */
  stop(): void {
    this.stopped = true;
    this.stopping.abort();
    this.wake();
  }

  private graceMs(): number {
    return this.current.spec?.container?.stopGracePeriodMs || DEFAULT_STOP_GRACE_MS;
  }

  private setStatus(state: TaskState, fields: { message?: string; err?: string; pid?: number; exitCode?: number }): void {
    if (state < this.local.state) return; // states only move forward
    this.local = makeStatus(state, this.deps.clock.now(), { ...fields, containerId: this.containerId, receive: this.receive });
    this.deps.report(this.current.id, this.local);
  }

  private woken(): Promise<void> {
    return new Promise((resolve) => { this.wake = resolve; });
  }

  private async run(stopStrayContainer: boolean): Promise<void> {
    await Promise.resolve(); // let the constructor return before the first step
    if (stopStrayContainer) await this.deps.controller.shutdown(this.graceMs()).catch(() => {});
    while (!this.stopped) {
      const step = nextStep(this.current.desiredState, this.local.state, this.removed);
      const ctl = this.deps.controller;
      try {
        switch (step.kind) {
          case 'advance':
            this.setStatus(step.state, { message: step.message });
            break;
          case 'prepare':
            await ctl.prepare();
            this.containerId = (await ctl.inspect()).containerId;
            this.setStatus(afterStep('prepare').state, { message: afterStep('prepare').message });
            break;
          case 'start': {
            await ctl.start();
            const seen = await ctl.inspect();
            this.containerId = seen.containerId;
            // RUNNING only once reachable: DNS and load balancers add the task when it reports it.
            await this.plumb(seen.pid);
            this.setStatus(TaskState.TASK_STATE_RUNNING, { message: afterStep('start').message, pid: seen.pid });
            break;
          }
          case 'wait':
            if (!this.plumbed && this.deps.dataplane) {
              // Adopted after an agent restart: the container runs; make sure it is plumbed.
              const seen = await ctl.inspect();
              if (seen.running) await this.plumb(seen.pid);
              this.plumbed = true;
              // Its devices may have been made again with other VNIs: other nodes must send to these.
              if (!sameReceive(this.local.receive, this.receive)) this.setStatus(this.local.state, { message: this.local.message, pid: seen.pid });
            }
            await this.waitOrWake();
            break;
          case 'shutdown': {
            await ctl.shutdown(this.graceMs());
            await this.unplumb();
            this.pendingWait = undefined; // the exit we caused is not the task's own
            const seen = await ctl.inspect();
            this.setStatus(TaskState.TASK_STATE_SHUTDOWN, { message: afterStep('shutdown').message, exitCode: seen.exitCode });
            break;
          }
          case 'remove':
            if (step.stopFirst) await ctl.shutdown(this.graceMs());
            await ctl.remove();
            await this.unplumb(true);
            this.deps.logger.debug('task removed', { task: this.current.id });
            return;
          case 'idle':
            await this.woken();
            break;
        }
      } catch (err) {
        if (this.stopped) return;
        await this.onError(step.kind, err);
      }
    }
  }

  /** Waits for the container to exit, or returns early when the assignment changes. */
  private async waitOrWake(): Promise<void> {
    const woken = this.woken();
    this.pendingWait ??= this.deps.controller.wait().then(
      (value): Settled => ({ ok: true, value }),
      (error): Settled => ({ ok: false, error }),
    );
    const waiting = this.pendingWait;
    const settled = await Promise.race([waiting, woken.then(() => undefined)]);
    if (!settled || this.stopped || this.pendingWait !== waiting) return; // re-evaluate
    this.pendingWait = undefined;
    // The desired state may have turned to SHUTDOWN while the container was exiting on its
    // own; its own exit is still what happened, so report it.
    if (!settled.ok) throw settled.error;
    await this.unplumb();
    const s = exitStatus(settled.value.exitCode);
    this.setStatus(s.state, { message: s.message, err: s.err, exitCode: settled.value.exitCode });
  }

  private async plumb(pid: number): Promise<void> {
    if (!this.deps.dataplane) return;
    try {
      this.receive = await this.deps.dataplane.attach(this.current, pid);
      this.plumbed = true;
    } catch (err) {
      // A container we could not connect is of no use: stop it, and fail the task with why.
      await this.deps.controller.shutdown(0).catch(() => {});
      await this.deps.dataplane.detach(this.current.id);
      throw new ExecutorError(`connecting the container to its networks failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  /** The container's process is gone (or going): release its endpoints. `always`: even if never plumbed here. */
  private async unplumb(always = false): Promise<void> {
    if (!this.deps.dataplane || (!this.plumbed && !always)) return;
    this.plumbed = false;
    this.receive = [];
    await this.deps.dataplane.detach(this.current.id);
  }

  private async onError(kind: string, err: unknown): Promise<void> {
    const message = err instanceof Error ? err.message : String(err);
    const temporary = err instanceof ExecutorError && err.temporary;
    // Stopping and removing are retried until they succeed: giving up would leak a container.
    if (temporary || kind === 'shutdown' || kind === 'remove') {
      this.deps.logger.warn(`task ${kind} failed; retrying`, { task: this.current.id, err: message });
      await sleep(this.deps.clock, TEMPORARY_RETRY_MS, this.stopping.signal);
      return;
    }
    this.deps.logger.warn(`task ${kind} failed`, { task: this.current.id, err: message });
    if (!isTerminal(this.local.state)) this.setStatus(failedState(this.local.state), { message: kind === 'wait' ? 'started' : kind, err: message });
  }
}
