// TLS credentials for node-to-node gRPC (port 2377), and the join handshake.
//
// Trust model: the only trust anchor is the cluster's root CA. Nodes are addressed by IP and
// their certificates name node IDs, so hostname verification means nothing here; instead a
// client checks that the server's certificate chains to OUR root and, where it matters,
// that the server is a manager. Authorization of callers reads the role from their
// certificate (peer.ts), never from anything the caller says.
//
// THE JOIN HANDSHAKE (what a node does with `tswarm join --token T 10.0.0.1:2377`)
//
//   1. parseJoinToken(T). A malformed token stops here, before any network I/O.
//   2. Connect with bootstrapCredentials(): TLS that does NOT verify the server (we have no
//      CA yet). Call the CA service's GetRootCACertificate, which needs no credentials.
//      Nothing secret is sent on this connection.
//   3. pinRootCA(T, presentedPem): the presented CA must be exactly one self-signed CA
//      certificate whose SHA-256 equals the digest in T. Otherwise stop: the token belongs to
//      another cluster or someone is intercepting the connection.
//   4. Reconnect with joinCredentials(pinnedCaPem): TLS verifying that the server chains to
//      the pinned CA and holds a manager certificate. Only now send the secret: call
//      IssueNodeCertificate(csr, T) with a CSR from createNodeKeyAndCSR().
//   5. The manager checks T with tokenGrantsRole (constant time), picks the node ID, and
//      signs with issueNodeCert using the role the token grants. The node saves key,
//      certificate and CA (NodeKeyStore) and from then on uses clientCredentials().
//
// So the secret is only ever sent to a server that proved, in the TLS handshake, that it
// holds a certificate issued by the CA the token names. This is Swarm's design; a
// man-in-the-middle at step 2 can only make the join fail, never learn the secret.
//
// The manager's port serves joiners (no certificate yet) and members on one listener, so
// it uses clientCerts: 'verify-if-given' (Swarm's VerifyClientCertIfGiven): a certificate
// that is presented must chain to our CA, and every handler except the CA's
// GetRootCACertificate / IssueNodeCertificate must call requireRole. Listeners that never
// serve joiners use the default, 'require', which refuses anonymous clients in TLS itself.
import * as grpc from '@grpc/grpc-js';
import { createPrivateKey, X509Certificate as NodeX509 } from 'node:crypto';
import { PeerCertificate, SecureContextOptions } from 'node:tls';
import { NodeIdentity, NodeRole, parseNodeIdentity } from './identity.js';
import { parseJoinToken, ParsedJoinToken, rootCADigest } from './join-token.js';
import { derToPem, pemToDer } from './pem.js';
import { parseRootCACert } from './root-ca.js';

/**
 * Channel options every node-to-node client should pass. grpc-js sends the dialled host as
 * the TLS server name (SNI); nodes are dialled by IP, which RFC 6066 forbids in SNI and Node
 * warns about (DEP0123). Our servers ignore SNI and our clients ignore hostnames (see
 * checkServer), so any fixed DNS-style name will do.
 */
export const NODE_CHANNEL_OPTIONS: grpc.ChannelOptions = { 'grpc.ssl_target_name_override': 'tswarm-node' };

/** What a node presents and trusts: its key and certificate, and the cluster's root. */
export interface TlsIdentity {
  caPem: string;
  certPem: string;
  keyPem: string;
}

/** TLS 1.2 is the floor, as in Swarm; both ends are ours, so 1.3 is what is negotiated. */
const MIN_TLS_VERSION = 'TLSv1.2';

/**
 * Checks that key, certificate and CA belong together, so a broken data dir fails with a
 * sentence instead of an opaque handshake error on the first call. Does not check validity
 * dates: an expired node must still be able to start and renew or re-join.
 */
export function checkTlsIdentity(id: TlsIdentity): NodeIdentity {
  const ca = parseRootCACert(id.caPem);
  const leaf = new NodeX509(Buffer.from(pemToDer(id.certPem, 'CERTIFICATE', 'node certificate')));
  if (!leaf.checkIssued(ca) || !leaf.verify(ca.publicKey)) {
    throw new Error('the node certificate was not issued by the root CA it is paired with; the node must join the cluster again');
  }
  if (!leaf.checkPrivateKey(createPrivateKey(id.keyPem))) {
    throw new Error('the node private key does not match the node certificate; the node must join the cluster again');
  }
  return parseNodeIdentity(id.certPem);
}

function contextOptions(id: TlsIdentity): SecureContextOptions {
  checkTlsIdentity(id);
  return { ca: id.caPem, cert: id.certPem, key: id.keyPem, minVersion: MIN_TLS_VERSION };
}

export type ClientCertPolicy = 'require' | 'verify-if-given';

/**
 * Server credentials whose certificate can be swapped in place after renewal (`update`),
 * without restarting the server or dropping established connections.
 *
 * Subclasses grpc-js's public abstract ServerCredentials because its createSsl cannot express
 * "verify if given" (it sets requestCert without rejectUnauthorized: false) and cannot update.
 */
export class NodeServerCredentials extends grpc.ServerCredentials {
  constructor(id: TlsIdentity, readonly clientCerts: ClientCertPolicy) {
    // requestCert: always ask for a client certificate. rejectUnauthorized: in 'require'
    // mode, no certificate or a foreign one fails the handshake; in 'verify-if-given' the
    // handshake succeeds but grpc-js then reports no peer certificate (getAuthContext), so
    // the caller is anonymous and requireRole refuses it.
    super({ requestCert: true, rejectUnauthorized: clientCerts === 'require' }, contextOptions(id));
  }

  /** Serve a renewed certificate (or a rotated CA) on new connections. */
  update(id: TlsIdentity): void {
    this.updateSecureContextOptions(contextOptions(id));
  }

  _equals(other: grpc.ServerCredentials): boolean {
    return other === this;
  }
}

export interface ServerCredentialsOptions extends TlsIdentity {
  /** Default 'require' (mutual TLS). 'verify-if-given' only for the listener that serves joins. */
  clientCerts?: ClientCertPolicy;
}

export function serverCredentials(opts: ServerCredentialsOptions): NodeServerCredentials {
  return new NodeServerCredentials(opts, opts.clientCerts ?? 'require');
}

export interface ClientCredentialsOptions {
  caPem: string;
  /** The node's own certificate and key; omit both only for the join call (step 4 above). */
  certPem?: string;
  keyPem?: string;
  /** Refuse a server whose certificate has another role (e.g. a demoted manager). */
  expectRole?: NodeRole;
  /** Refuse a server that is not this node (e.g. a Raft peer we dial by address). */
  expectNodeId?: string;
}

/**
 * Client credentials that trust only `caPem` (Node verifies the chain and dates) and replace
 * hostname checking with checkServerIdentity below.
 */
export function clientCredentials(opts: ClientCredentialsOptions): grpc.ChannelCredentials {
  if ((opts.certPem === undefined) !== (opts.keyPem === undefined)) {
    throw new Error('clientCredentials needs both certPem and keyPem, or neither (join only)');
  }
  if (opts.certPem !== undefined) checkTlsIdentity({ caPem: opts.caPem, certPem: opts.certPem, keyPem: opts.keyPem! });
  const ca = parseRootCACert(opts.caPem);
  const key = opts.keyPem === undefined ? null : Buffer.from(opts.keyPem);
  const cert = opts.certPem === undefined ? null : Buffer.from(opts.certPem);
  return grpc.credentials.createSsl(Buffer.from(opts.caPem), key, cert, {
    checkServerIdentity: (_hostname: string, peer: PeerCertificate): Error | undefined => checkServer(ca, peer, opts),
  });
}

/**
 * Runs after Node has verified the chain against our CA. Re-verifies the leaf's signature
 * with our root's key (independent of how Node built the chain), then checks the identity.
 * Returns an Error for grpc-js to fail the connection with.
 */
export function checkServer(ca: NodeX509, peer: PeerCertificate, opts: ClientCredentialsOptions): Error | undefined {
  try {
    if (!peer.raw || !new NodeX509(peer.raw).verify(ca.publicKey)) {
      return new Error('server certificate was not issued by this cluster\'s root CA');
    }
    const id = parseNodeIdentity(peer.raw);
    if (opts.expectRole && id.role !== opts.expectRole) {
      return new Error(`server ${id.nodeId} is a ${id.role}, but this connection needs a ${opts.expectRole}`);
    }
    if (opts.expectNodeId && id.nodeId !== opts.expectNodeId) {
      return new Error(`server is node ${id.nodeId}, but this connection expected node ${opts.expectNodeId}`);
    }
    return undefined;
  } catch (e) {
    return new Error(`server certificate rejected: ${(e as Error).message}`);
  }
}

/**
 * Step 2 of the join: TLS without verifying the server, ONLY for GetRootCACertificate.
 * Never send a token or anything else secret over a channel made with these credentials.
 */
export function bootstrapCredentials(): grpc.ChannelCredentials {
  return grpc.credentials.createSsl(null, null, null, {
    rejectUnauthorized: false,
    checkServerIdentity: () => undefined,
  });
}

export class JoinPinningError extends Error {
  override name = 'JoinPinningError';
}

/**
 * Step 3 of the join: accepts the CA a manager presented only if it is the one the token
 * names. Returns the CA re-encoded from the checked DER, which is what the node must store.
 */
export function pinRootCA(token: string | ParsedJoinToken, presentedCaPem: string): string {
  const parsed = typeof token === 'string' ? parseJoinToken(token) : token;
  let ca: NodeX509;
  try {
    ca = parseRootCACert(presentedCaPem);
  } catch (e) {
    throw new JoinPinningError(`the manager presented an unusable root CA (${(e as Error).message}); nothing secret was sent`);
  }
  const pem = derToPem(new Uint8Array(ca.raw), 'CERTIFICATE');
  const actual = rootCADigest(pem);
  if (actual !== parsed.rootDigest) {
    throw new JoinPinningError(
      `the manager's root CA (digest ${actual.slice(0, 12)}…) is not the one in the join token (digest ${parsed.rootDigest.slice(0, 12)}…); ` +
        'the token is for another cluster or the connection is being intercepted; nothing secret was sent',
    );
  }
  return pem;
}

/** Step 4 of the join: verify the manager against the pinned CA; no client certificate yet. */
export function joinCredentials(pinnedCaPem: string): grpc.ChannelCredentials {
  return clientCredentials({ caPem: pinnedCaPem, expectRole: 'manager' });
}
