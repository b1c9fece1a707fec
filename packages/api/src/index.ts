// The front door of @tswarm/api: generated wire types and gRPC services, plus the
// small helpers that the CLI and the daemon must agree on.
export * from './gen/index.js';
export * from './host.js';
export * from './version.js';
export * from './logger.js';
export * from './mac.js';
export * from './vni.js';
export * from './prng.js';
export * from './wait.js';
export * from './pacing.js';
export * from './wire.js';
export * from './leader-hint.js';
export * from './grpc-options.js';
