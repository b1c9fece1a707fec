// The front door of the e2e workspace: the test-host lab.
export { Lab, HostStatus } from './lab.js';
export { LabOptions, LabState, HostState, LAB_LABEL, DEFAULT_PREFIX, DEFAULT_SUBNET, STATE_ROOT } from './config.js';
export { RunResult, RunOptions, pidAlive } from './proc.js';
export { TeardownReport } from './teardown.js';
export { listNetns, listRootLinks } from './netns.js';
export * from './swarm.js';
export * from './overlay.js';
