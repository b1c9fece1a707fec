// Who is calling: the identity in the TLS peer certificate of a gRPC server call.
import * as grpc from '@grpc/grpc-js';
import { NodeIdentity, NodeRole, parseNodeIdentity } from './identity.js';

/**
 * The part of a grpc-js server call we read (ServerUnaryCall, ServerWritableStream, …
 * all have it). grpc-js 1.14's getAuthContext() returns sslPeerCertificate only when the
 * TLS socket is `authorized`, i.e. the certificate chains to the CA the server trusts; a
 * caller with no certificate, or with one from another CA on a 'verify-if-given' listener,
 * gets no certificate here.
 */
export interface CallWithAuthContext {
  getAuthContext?(): { sslPeerCertificate?: { raw?: Buffer } } | null | undefined;
}

/** The caller's identity, or null when it presented no certificate issued by our CA. */
export function peerIdentity(call: CallWithAuthContext): NodeIdentity | null {
  const raw = call.getAuthContext?.()?.sslPeerCertificate?.raw;
  if (!raw) return null;
  try {
    return parseNodeIdentity(raw);
  } catch {
    // Chained to our CA but not a node certificate: our CA issues no such thing, so treat
    // the caller as anonymous rather than guess a role.
    return null;
  }
}

/**
 * A gRPC status as an Error. grpc-js handlers can pass it straight to `callback(err)` or
 * `call.destroy(err)`: grpc-js reads `code` and `details`.
 */
export class StatusError extends Error {
  override name = 'StatusError';
  /** `metadata`: sent as the call's trailers (grpc-js reads an error's `metadata`). */
  constructor(readonly code: grpc.status, readonly details: string, readonly metadata?: grpc.Metadata) {
    super(details);
  }
}

export interface RequireRoleOptions {
  /** Also require the caller's certificate to name this cluster. */
  clusterId?: string;
}

/**
 * Returns the caller's identity if it holds one of `roles`, else throws a StatusError:
 * UNAUTHENTICATED when it has no certificate from our CA (it must join first),
 * PERMISSION_DENIED when its certificate has the wrong role or cluster.
 */
export function requireRole(call: CallWithAuthContext, roles: readonly NodeRole[], opts: RequireRoleOptions = {}): NodeIdentity {
  const wanted = `${roles.map((r) => (r === 'manager' ? 'a manager' : 'a worker')).join(' or ')} certificate`;
  const id = peerIdentity(call);
  if (!id) {
    throw new StatusError(
      grpc.status.UNAUTHENTICATED,
      `unauthenticated: this call needs ${wanted}; the caller presented none issued by this cluster's CA (join the swarm first)`,
    );
  }
  if (opts.clusterId !== undefined && id.clusterId !== opts.clusterId) {
    throw new StatusError(
      grpc.status.PERMISSION_DENIED,
      `permission denied: node ${id.nodeId} belongs to cluster ${id.clusterId}, not ${opts.clusterId}`,
    );
  }
  if (!roles.includes(id.role)) {
    throw new StatusError(
      grpc.status.PERMISSION_DENIED,
      `permission denied: this call needs ${wanted}; node ${id.nodeId} is a ${id.role}`,
    );
  }
  return id;
}
