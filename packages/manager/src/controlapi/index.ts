// The control API's front door: gRPC handlers (controlApi), the same RPCs as plain async
// functions (controlRpcs), the dependencies they take and the Raft membership seam.
// Helpers stay internal; import them from their files within the manager if needed.
export { controlApi, controlRpcs, type ControlApiHandlers, type ControlApiMethod, type ControlRpcs } from './server.js';
export { type ControlApiDeps } from './context.js';
export { StaticRaftMembers, quorumAfterRemoval, type RaftMemberInfo, type RaftMembers } from './raft-members.js';
export { toStatus as controlApiStatus } from './errors.js';
export { validateServiceSpec } from './validate-spec.js';
export { DYNAMIC_PORT_MIN, DYNAMIC_PORT_MAX } from './ports.js';
