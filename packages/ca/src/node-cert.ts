// Node certificates. A node makes its own key and a PKCS#10 request; the CA decides who the
// node is (ID from the store, role from the join token) and signs that, never what the CSR says.
import { createPrivateKey, randomBytes as nodeRandomBytes, X509Certificate as NodeX509 } from 'node:crypto';
import { checkId, identityOf, NodeIdentity, NodeRole, ROLE_OU } from './identity.js';
import { pemToDer } from './pem.js';
import { CERT_BACKDATE_MS, parseRootCACert, RandomBytes, RootCA } from './root-ca.js';
import { EC_ALGORITHM, exportPrivateKeyPem, generateKeyPair, importSigningKey, randomSerialHex, x509 } from './x509.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** 90 days, as Swarm: short enough that a leaked key ages out, long enough to ride out an outage. */
export const DEFAULT_NODE_CERT_VALIDITY_DAYS = 90;

/** Swarm's floor: shorter certificates would renew faster than a busy manager can answer. */
export const MIN_NODE_CERT_VALIDITY_MS = 60 * 60 * 1000;

/**
 * The subject a CSR carries. Deliberately says nothing about the node: the CA assigns the
 * identity, so a CSR that claims one is ignored anyway.
 */
export const CSR_COMMON_NAME = 'tswarm-node-csr';

export interface NodeKeyAndCSR {
  keyPem: string;
  csrPem: string;
}

/** A fresh node key and a CSR signed with it. Renewal makes a new key each time, as Swarm does. */
export async function createNodeKeyAndCSR(): Promise<NodeKeyAndCSR> {
  const keys = await generateKeyPair();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: [{ CN: [CSR_COMMON_NAME] }],
    keys: keys as unknown as CryptoKeyPairLike,
    signingAlgorithm: EC_ALGORITHM,
  });
  return { keyPem: await exportPrivateKeyPem(keys.privateKey), csrPem: csr.toString('pem') };
}

type CryptoKeyPairLike = x509.Pkcs10CertificateRequestCreateParams['keys'];

export interface IssueNodeCertOptions {
  ca: RootCA;
  csrPem: string;
  nodeId: string;
  role: NodeRole;
  clusterId: string;
  now: Date;
  validityDays?: number;
  randomBytes?: RandomBytes;
}

/** Signs a node certificate for the identity the CA chose. Returns its PEM. */
export async function issueNodeCert(opts: IssueNodeCertOptions): Promise<string> {
  checkId('node ID', opts.nodeId);
  checkId('cluster ID', opts.clusterId);
  if (opts.role !== 'manager' && opts.role !== 'worker') throw new Error(`invalid role ${JSON.stringify(opts.role)}: expected manager or worker`);
  const validityMs = (opts.validityDays ?? DEFAULT_NODE_CERT_VALIDITY_DAYS) * DAY_MS;
  if (!(validityMs >= MIN_NODE_CERT_VALIDITY_MS)) {
    throw new Error(`node certificate validity must be at least 1 hour, got ${opts.validityDays} days`);
  }

  const csr = await parseCSR(opts.csrPem);
  const caNode = parseRootCACert(opts.ca.certPem);
  const caCert = new x509.X509Certificate(opts.ca.certPem);
  const now = opts.now.getTime();
  if (now < caCert.notBefore.getTime() || now > caCert.notAfter.getTime()) {
    throw new Error(`the root CA is not valid now (valid ${caCert.notBefore.toISOString()} to ${caCert.notAfter.toISOString()}); rotate the cluster's root CA`);
  }
  const signingKey = await importSigningKey(opts.ca.keyPem);
  if (!caNode.checkPrivateKey(createPrivateKey(opts.ca.keyPem))) {
    throw new Error('the CA private key does not belong to the CA certificate; check the manager\'s CA files');
  }

  const ou = ROLE_OU[opts.role];
  // A leaf must not outlive its issuer: clients would reject it before it "expires".
  const notAfter = Math.min(now + validityMs, caCert.notAfter.getTime());
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerialHex(opts.randomBytes ?? nodeRandomBytes),
    // Subject order as Swarm: O=cluster, OU=role, CN=node.
    subject: [{ O: [opts.clusterId] }, { OU: [ou] }, { CN: [opts.nodeId] }],
    issuer: caCert.subjectName,
    notBefore: new Date(now - CERT_BACKDATE_MS),
    notAfter: new Date(notAfter),
    publicKey: csr.publicKey,
    signingKey: signingKey as unknown as SigningKeyLike,
    signingAlgorithm: EC_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      // Every node is both a gRPC server (managers; workers for future node-to-node calls)
      // and a client, and mutual TLS checks each purpose.
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      // Not used for authorization (that reads the subject) but lets ordinary TLS tools
      // address a node by role or ID.
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: ou },
        { type: 'dns', value: opts.nodeId },
      ]),
      await x509.SubjectKeyIdentifierExtension.create(csr.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
    ],
  });
  return cert.toString('pem');
}

type SigningKeyLike = x509.X509CertificateCreateWithKeyParams['signingKey'];

async function parseCSR(csrPem: string): Promise<x509.Pkcs10CertificateRequest> {
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(pemToDer(csrPem, 'CERTIFICATE REQUEST', 'certificate signing request'));
  } catch (e) {
    throw new Error(`invalid certificate signing request: ${(e as Error).message}`);
  }
  const alg = csr.publicKey.algorithm as { name?: string; namedCurve?: string };
  if (alg.name !== 'ECDSA' || alg.namedCurve !== 'P-256') {
    throw new Error(`invalid certificate signing request: the key must be ECDSA P-256, got ${alg.name ?? 'unknown'} ${alg.namedCurve ?? ''}`.trim());
  }
  // Proof of possession: the requester holds the private key it wants certified.
  if (!(await csr.verify())) {
    throw new Error('invalid certificate signing request: its signature does not verify; the node must sign the request with the key being certified');
  }
  return csr;
}

/**
 * Verifies that `leafPem` was signed by the root `caPem` and that both are valid at `now`.
 * Returns the leaf's identity, or throws an Error saying what is wrong.
 */
export function verifyChain(leafPem: string, caPem: string, now: Date): NodeIdentity {
  const ca = parseRootCACert(caPem);
  const leafDer = pemToDer(leafPem, 'CERTIFICATE', 'node certificate');
  const leaf = new NodeX509(Buffer.from(leafDer));
  if (!leaf.checkIssued(ca) || !leaf.verify(ca.publicKey)) {
    throw new Error('node certificate was not issued by this cluster\'s root CA; the node must join this cluster again');
  }
  const identity = identityOf(new x509.X509Certificate(leafDer));
  const caCert = new x509.X509Certificate(caPem);
  const t = now.getTime();
  if (t < caCert.notBefore.getTime() || t > caCert.notAfter.getTime()) {
    throw new Error(`the root CA is not valid at ${now.toISOString()} (valid ${caCert.notBefore.toISOString()} to ${caCert.notAfter.toISOString()})`);
  }
  if (t < identity.notBefore.getTime()) {
    throw new Error(`node certificate of ${identity.nodeId} is not valid until ${identity.notBefore.toISOString()}; check this host's clock`);
  }
  if (t > identity.notAfter.getTime()) {
    throw new Error(`node certificate of ${identity.nodeId} expired at ${identity.notAfter.toISOString()}; the node must renew it or join again`);
  }
  return identity;
}
