// The contract between the agent and whatever runs containers on this host (STYLE.md point 2).
// The agent owns task state; an executor only does what it is asked and reports what it saw.
// packages/executor-docker implements it with the Docker Engine; FakeExecutor
// (fake-executor.ts) implements it in memory for tests.
import type { LogMessage, NodeDescription, Task } from '@tswarm/api';

// ---- Errors ------------------------------------------------------------------------------

/**
 * A failure the executor could not get past. Its message is shown to the user as the task's
 * error, so it must say what went wrong in the user's words (Docker's own message where Docker
 * produced one, e.g. "No such image: nginx:latest").
 *
 * `temporary` marks failures that say nothing about the task itself (the engine is restarting,
 * a socket timed out): the agent retries the same step later instead of failing the task.
 */
export class ExecutorError extends Error {
  constructor(message: string, readonly temporary = false) {
    super(message);
    this.name = 'ExecutorError';
  }
}

/**
 * The task's container does not exist (any more): removed by hand, or the engine lost it.
 * Thrown by start(), wait() and logs(); never by prepare(), shutdown(), remove() or inspect().
 */
export class ContainerNotFoundError extends ExecutorError {
  constructor(readonly taskId: string) {
    super(`container for task ${taskId} not found: it was removed outside tswarm`);
    this.name = 'ContainerNotFoundError';
  }
}

// ---- Types ---------------------------------------------------------------------------------

/** What the engine says about a task's container right now. */
export interface ContainerObservation {
  /** False when there is no container for the task; the other fields are then empty. */
  exists: boolean;
  containerId: string;
  running: boolean;
  /** The main process's pid while running, else 0. */
  pid: number;
  /** Valid once the container has run and stopped; 0 otherwise. */
  exitCode: number;
}

export interface ExitStatus {
  exitCode: number;
}

/** A container this executor created for this node, found by listManaged(). */
export interface ManagedContainer {
  taskId: string;
  containerId: string;
  running: boolean;
}

export interface LogOptions {
  /** Keep streaming new lines until the consumer stops iterating. */
  follow: boolean;
  /** Lines from the end to start with; a negative number means all. */
  tail: number;
}

// ---- Interfaces ------------------------------------------------------------------------

/**
 * Runs one task's container. Obtained from Executor.controller(task) and owned by exactly one
 * task runner in the agent, which never calls two methods of it at once, except that
 * shutdown(), remove() and inspect() may be called while a wait() is pending.
 *
 * Every method is idempotent, because after an agent restart the agent replays a task from
 * the last state the manager recorded and the container may already be further along.
 */
export interface TaskController {
  /**
   * Makes the container ready to start: pulls the image when it is not present, then creates
   * the container. Resolves at once when the container already exists.
   * Fails with ExecutorError when the image cannot be had or the spec is refused by the engine.
   */
  prepare(): Promise<void>;

  /** Starts the created container. Resolves at once when it is already running. */
  start(): Promise<void>;

  /**
   * Resolves when the container's main process has exited (at once if it already has).
   * Rejects with ContainerNotFoundError when there is no container.
   */
  wait(): Promise<ExitStatus>;

  /**
   * Stops the container: the stop signal, then SIGKILL after `graceMs` milliseconds.
   * Resolves when it has stopped; resolves at once when it is not running or does not exist.
   */
  shutdown(graceMs: number): Promise<void>;

  /** Removes the container (killing it if still running). A missing container is success. */
  remove(): Promise<void>;

  /** What the engine says about the container. Never throws for a missing container. */
  inspect(): Promise<ContainerObservation>;

  /**
   * The container's output as LogMessages (one per line, stdout and stderr kept apart).
   * Ends when the output ends (or, with `follow`, when the container stops). The iterator's
   * return() may be called while a next() is still pending (a followed log with no new line):
   * it must then release the underlying stream at once and settle the pending next() as done.
   */
  logs(opts: LogOptions): AsyncIterable<LogMessage>;
}

/**
 * The host side of the agent. One per node. Methods may be called concurrently; controllers
 * for different tasks are independent.
 */
export interface Executor {
  /** The node as the engine sees it: hostname, OS, CPUs, memory, engine version. */
  describe(): Promise<NodeDescription>;

  /** A controller for the task's container. Cheap: creating one touches nothing. */
  controller(task: Task): TaskController;

  /**
   * Every container this executor created for this node (running or not), so the agent can
   * adopt the ones its tasks still own after a restart and remove the rest. Containers made
   * by other nodes sharing the same engine are never listed.
   */
  listManaged(): Promise<ManagedContainer[]>;

  /**
   * Stops (with the stop signal and grace period it was created with) and removes a container
   * from listManaged() whose task no longer exists. A missing container is success.
   */
  removeManaged(containerId: string): Promise<void>;
}
