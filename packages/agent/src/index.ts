// The front door of @tswarm/agent (STYLE.md point 10): the Agent, the Executor contract that
// executors implement, and the pieces tests and the daemon compose.
export { Agent } from './agent.js';
export type { AgentOptions, SessionState } from './agent.js';
export { ExecutorError, ContainerNotFoundError } from './executor.js';
export type {
  Executor, TaskController, ContainerObservation, ExitStatus, ManagedContainer, LogOptions,
} from './executor.js';
export type { Dataplane } from './dataplane.js';
export { FakeDataplane } from './fake-dataplane.js';
export { FakeExecutor } from './fake-executor.js';
export type { FakeContainer, FakeExecutorOptions, FakeOp } from './fake-executor.js';
export { systemClock, sleep } from './clock.js';
export type { Clock, TimerHandle, Rng } from './clock.js';
export { nextStep, afterStep, failedState, exitStatus, isTerminal, makeStatus } from './task-state.js';
export type { Step } from './task-state.js';
export { TaskRunner, DEFAULT_STOP_GRACE_MS, TEMPORARY_RETRY_MS } from './task-runner.js';
export { StatusReporter, STATUS_FLUSH_MS, STATUS_RETRY_MS, MAX_STATUS_BATCH } from './status-reporter.js';
export type { StatusSender } from './status-reporter.js';
export { Worker } from './worker.js';
export { Session, STATUS_CALL_TIMEOUT_MS } from './session.js';
export { LogPublisher, LOG_FLUSH_MS, MAX_LOG_BATCH } from './log-publisher.js';
export {
  reconnectDelayMs, heartbeatDelayMs, DEFAULT_BACKOFF, DEFAULT_HEARTBEAT_PERIOD_MS,
  RECONNECT_BACKOFF_INITIAL_MS, RECONNECT_BACKOFF_MAX_MS, SESSION_OPEN_TIMEOUT_MS,
  HEARTBEAT_SEND_MIN_FRACTION, HEARTBEAT_SEND_MAX_FRACTION,
} from './timing.js';
export type { BackoffPolicy } from './timing.js';
