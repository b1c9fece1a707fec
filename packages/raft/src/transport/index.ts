export type { Transport, TransportHandlers } from './transport.js';
export { MemoryNetwork, MemoryTransport } from './memory-transport.js';
export { GrpcTransport, GrpcTransportOptions, MAX_SNAPSHOT_BYTES } from './grpc-transport.js';
export { MAX_QUEUED_MESSAGES, SNAPSHOT_CHUNK_BYTES, REDIAL_BACKOFF_MS } from './peer-link.js';
export { RAFT_SERVICE } from './pipe.js';
export { toWire, fromWire } from './codec.js';
