// @tswarm/ca: the cluster's root CA, node certificates, join tokens and TLS credentials.
// Pure functions take the clock (`now`) and randomness (`randomBytes`, `rng`) as arguments.
export { createRootCA, parseRootCACert, DEFAULT_ROOT_CA_VALIDITY_DAYS, CERT_BACKDATE_MS, ROOT_CA_COMMON_NAME } from './root-ca.js';
export type { RootCA, CreateRootCAOptions, RandomBytes } from './root-ca.js';
export { createNodeKeyAndCSR, issueNodeCert, verifyChain, DEFAULT_NODE_CERT_VALIDITY_DAYS, MIN_NODE_CERT_VALIDITY_MS, CSR_COMMON_NAME } from './node-cert.js';
export type { NodeKeyAndCSR, IssueNodeCertOptions } from './node-cert.js';
export { parseNodeIdentity, ROLE_OU } from './identity.js';
export type { NodeIdentity, NodeRole } from './identity.js';
export {
  makeJoinToken,
  rotateJoinToken,
  parseJoinToken,
  rootCADigest,
  digestMatches,
  tokenGrantsRole,
  JoinTokenError,
  JOIN_TOKEN_PREFIX,
  JOIN_TOKEN_VERSION,
} from './join-token.js';
export type { ParsedJoinToken, ClusterJoinTokens } from './join-token.js';
export {
  renewalDelayMs, renewalRetryDelayMs, RENEW_AT_MIN_FRACTION, RENEW_AT_MAX_FRACTION, RENEW_RETRY_INITIAL_MS, RENEW_RETRY_MAX_MS,
} from './renewal.js';
export { NodeCredentials } from './node-credentials.js';
export type { NodeClientOptions } from './node-credentials.js';
export {
  serverCredentials,
  clientCredentials,
  bootstrapCredentials,
  joinCredentials,
  pinRootCA,
  checkTlsIdentity,
  NodeServerCredentials,
  JoinPinningError,
  NODE_CHANNEL_OPTIONS,
} from './tls.js';
export type { TlsIdentity, ClientCertPolicy, ServerCredentialsOptions, ClientCredentialsOptions } from './tls.js';
export { peerIdentity, requireRole, StatusError } from './peer.js';
export type { CallWithAuthContext, RequireRoleOptions } from './peer.js';
export { NodeKeyStore, CERTIFICATES_DIR, NODE_KEY_FILE, NODE_CERT_FILE, ROOT_CA_FILE } from './key-store.js';
export type { StoredNodeCredentials } from './key-store.js';
