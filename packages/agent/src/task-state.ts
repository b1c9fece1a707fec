// The task state machine as pure functions: given what the manager wants and where the task
// is, which step comes next; given how a step ended, which status to report. The runner
// (task-runner.ts) does the I/O. Swarmkit's agent/exec/controller.go `Do` has the same shape.
//
//   ASSIGNED → ACCEPTED → PREPARING →(prepare)→ READY → STARTING →(start)→ RUNNING →(wait)→ COMPLETE | FAILED
//   desired ≥ SHUTDOWN, not yet terminal:        →(shutdown)→ SHUTDOWN
//   an error before STARTING: REJECTED; from STARTING on: FAILED
//   the assignment removed:                      →(shutdown, remove)→ gone (nothing more reported)
import { TaskState, type EndpointReceive, type TaskStatus } from '@tswarm/api';

export type Step =
  /** Report `state` with `message`; nothing to do on the host. */
  | { kind: 'advance'; state: TaskState; message: string }
  | { kind: 'prepare' }
  | { kind: 'start' }
  /** The container runs: wait for it to exit (or for the desired state to change). */
  | { kind: 'wait' }
  | { kind: 'shutdown' }
  /** Stop (when it may run) and remove the container; the runner then ends. */
  | { kind: 'remove'; stopFirst: boolean }
  /** Nothing to do until the assignment changes. */
  | { kind: 'idle' };

/** Terminal states: the task will never run again on this node. */
export function isTerminal(state: TaskState): boolean {
  return state >= TaskState.TASK_STATE_COMPLETE;
}

/**
 * The next step for a task whose latest local state is `state` and whose manager wants
 * `desired`. `removed` is true once the task has left this node's assignments.
 */
export function nextStep(desired: TaskState, state: TaskState, removed: boolean): Step {
  if (removed) {
    // A container may run from STARTING (start may have succeeded before we noticed) until
    // a terminal state; stopping first honours the task's grace period.
    const mayRun = state >= TaskState.TASK_STATE_STARTING && !isTerminal(state);
    return { kind: 'remove', stopFirst: mayRun };
  }
  if (isTerminal(state)) return { kind: 'idle' };
  if (desired >= TaskState.TASK_STATE_SHUTDOWN) return { kind: 'shutdown' };
  if (state === TaskState.TASK_STATE_RUNNING) return { kind: 'wait' };
  // Desired READY (start-first updates) prepares the task and holds it there.
  if (state >= desired) return { kind: 'idle' };
  switch (state) {
    case TaskState.TASK_STATE_ACCEPTED:
      return { kind: 'advance', state: TaskState.TASK_STATE_PREPARING, message: 'preparing' };
    case TaskState.TASK_STATE_PREPARING:
      return { kind: 'prepare' };
    case TaskState.TASK_STATE_READY:
      return { kind: 'advance', state: TaskState.TASK_STATE_STARTING, message: 'starting' };
    case TaskState.TASK_STATE_STARTING:
      return { kind: 'start' };
    default:
      // NEW, PENDING, ASSIGNED: the task has reached this node.
      return { kind: 'advance', state: TaskState.TASK_STATE_ACCEPTED, message: 'accepted' };
  }
}

/** The state a successful step leads to, with the message Docker's `service ps` users know. */
export function afterStep(kind: 'prepare' | 'start' | 'shutdown'): { state: TaskState; message: string } {
  switch (kind) {
    case 'prepare': return { state: TaskState.TASK_STATE_READY, message: 'prepared' };
    case 'start': return { state: TaskState.TASK_STATE_RUNNING, message: 'started' };
    case 'shutdown': return { state: TaskState.TASK_STATE_SHUTDOWN, message: 'shutdown' };
  }
}

/**
 * The state after a step failed in `state`: REJECTED while the task never started (the node
 * could not take it, so the orchestrator should place it elsewhere), FAILED from STARTING on.
 */
export function failedState(state: TaskState): TaskState {
  return state < TaskState.TASK_STATE_STARTING ? TaskState.TASK_STATE_REJECTED : TaskState.TASK_STATE_FAILED;
}

/** The status after the container's main process exited on its own. */
export function exitStatus(exitCode: number): { state: TaskState; message: string; err: string } {
  return exitCode === 0
    ? { state: TaskState.TASK_STATE_COMPLETE, message: 'finished', err: '' }
    : { state: TaskState.TASK_STATE_FAILED, message: 'started', err: `task: non-zero exit (${exitCode})` };
}

/** A TaskStatus with every field set (the generated type has no optional fields). */
export function makeStatus(
  state: TaskState,
  timestampMs: number,
  fields: { message?: string; err?: string; containerId?: string; pid?: number; exitCode?: number; receive?: readonly EndpointReceive[] } = {},
): TaskStatus {
  return {
    state,
    timestampMs,
    message: fields.message ?? '',
    err: fields.err ?? '',
    container: { containerId: fields.containerId ?? '', pid: fields.pid ?? 0, exitCode: fields.exitCode ?? 0 },
    receive: [...(fields.receive ?? [])],
  };
}
