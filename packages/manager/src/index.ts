export { RaftGroup, RaftGroupOptions } from './raft-group.js';
export { debugApi, debugKVTable, DebugKV } from './debug-api.js';
export * from './tables.js';
