// Who a certificate says its holder is. A node's identity lives in its certificate's
// subject, exactly as in Swarm, so any TLS peer can authorize a call from the handshake alone:
//   CN = node ID, OU = swarm-manager | swarm-worker, O = cluster ID.
import { x509 } from './x509.js';

export type NodeRole = 'manager' | 'worker';

/** The OU (and SAN DNS name) that carries each role; the same strings Swarm uses. */
export const ROLE_OU: Readonly<Record<NodeRole, string>> = {
  manager: 'swarm-manager',
  worker: 'swarm-worker',
};

export interface NodeIdentity {
  nodeId: string;
  role: NodeRole;
  clusterId: string;
  notBefore: Date;
  notAfter: Date;
}

/**
 * Node and cluster IDs end up in DNS SANs and in file and log lines, so they are kept to
 * a conservative alphabet. Swarm's IDs (25 base-36 chars) fit easily.
 */
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;

export function checkId(kind: 'node ID' | 'cluster ID', id: string): void {
  if (!ID_PATTERN.test(id)) {
    throw new Error(`invalid ${kind} ${JSON.stringify(id)}: use 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit`);
  }
}

export function roleFromOU(ou: string): NodeRole | null {
  if (ou === ROLE_OU.manager) return 'manager';
  if (ou === ROLE_OU.worker) return 'worker';
  return null;
}

function single(cert: x509.X509Certificate, field: 'CN' | 'OU' | 'O'): string {
  const values = cert.subjectName.getField(field);
  if (values.length !== 1) {
    throw new Error(`not a tswarm node certificate: its subject has ${values.length} ${field} values, expected 1 (subject: ${cert.subject})`);
  }
  return values[0]!;
}

/** Parses a node certificate given as PEM or DER. Does not verify it; see verifyChain. */
export function parseNodeIdentity(cert: string | Uint8Array): NodeIdentity {
  let parsed: x509.X509Certificate;
  try {
    parsed = new x509.X509Certificate(typeof cert === 'string' ? cert : Uint8Array.from(cert));
  } catch (e) {
    throw new Error(`not a certificate: ${(e as Error).message}`);
  }
  return identityOf(parsed);
}

export function identityOf(cert: x509.X509Certificate): NodeIdentity {
  const ou = single(cert, 'OU');
  const role = roleFromOU(ou);
  if (!role) {
    throw new Error(`not a tswarm node certificate: OU is ${JSON.stringify(ou)}, expected ${ROLE_OU.manager} or ${ROLE_OU.worker}`);
  }
  return {
    nodeId: single(cert, 'CN'),
    role,
    clusterId: single(cert, 'O'),
    notBefore: cert.notBefore,
    notAfter: cert.notAfter,
  };
}
