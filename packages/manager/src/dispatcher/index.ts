// Front door of the dispatcher (packages/manager re-exports it).
export { Dispatcher, HEARTBEAT_FAILURE_MESSAGE } from './dispatcher.js';
export {
  systemTimers,
  type DispatcherConfig,
  type DispatcherDeps,
  type ManagerPeer,
  type TimerHandle,
} from './contract.js';
export { ASSIGNMENT_BATCH_MS, AssignmentStream, agentVisibleChanged, inAssignmentSet } from './assignments.js';
export { NetworkViewPublisher } from './network-view-publisher.js';
export { HEARTBEAT_JITTER, SWEEPS_PER_PERIOD, HeartbeatTracker, jitteredPeriodMs, sweepIntervalMs } from './heartbeats.js';
export { FLUSH_ATTEMPTS, MAX_PENDING_WRITES, STATUS_FLUSH_MS } from './status-batcher.js';
export { LOG_BUFFER_MESSAGES, type LogStream, type LogSubscribeOptions } from './logs.js';
export { peerHost } from './grpc-service.js';
