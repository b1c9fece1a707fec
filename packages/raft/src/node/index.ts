export { RaftNode } from './raft-node.js';
export { StateMachine, CapturedState, RaftStatus } from './state-machine.js';
export { RaftNodeOptions } from './options.js';
export * from './options.js';
export { NotLeaderError, RaftTimeoutError, StoppedError } from './errors.js';
export { forceNewCluster, lastConfState, ForceNewClusterError, ForcedStart } from './force-new-cluster.js';
