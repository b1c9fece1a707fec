// The front door of @tswarm/dns: the per-node service-discovery resolver.
export { ServiceResolver, DEFAULT_PORT, DEFAULT_UPSTREAM_TIMEOUT_MS, TCP_IDLE_TIMEOUT_MS, MAX_TCP_CONNECTIONS,
  MAX_FORWARDS_IN_FLIGHT, type ResolverOptions, type ResolverStats } from './server.js';
export { answerQuery, answerFromNames, isSwarmNamespace, RECORD_TTL_S, RCODE, type Rcode, type Question,
  type Answer, type Forward } from './answer.js';
export { buildNameTable, NameTable, EMPTY_TABLE, normalizeName, reverseName, type AnswerRecord, type NameEntry,
  type ClientNames } from './name-table.js';
export { parseUpstream, upstreamsFromResolvConf, type Upstream } from './forwarder.js';
export { parseQuery, encodeResponse, udpLimitBytes, UDP_PLAIN_MAX_BYTES, EDNS_UDP_MAX_BYTES, type ParsedQuery,
  type ParseResult, type Encoded } from './wire.js';
