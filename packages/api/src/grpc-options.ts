/**
 * Options for every gRPC server tswarm runs and every channel it opens for its own traffic.
 * channelz (grpc-js's per-call statistics, which no tswarm tool reads) costs each call a
 * tracker object with four closures and a clock read per message.
 */
export const GRPC_COMMON_OPTIONS = { 'grpc.enable_channelz': 0 } as const;
