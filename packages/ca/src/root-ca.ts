// The cluster's root certificate authority: one self-signed ECDSA P-256 certificate whose
// digest every join token carries, and whose key signs every node certificate.
import { randomBytes as nodeRandomBytes, X509Certificate as NodeX509 } from 'node:crypto';
import { checkId } from './identity.js';
import { pemToDer } from './pem.js';
import { EC_ALGORITHM, exportPrivateKeyPem, generateKeyPair, randomSerialHex, x509 } from './x509.js';

export type RandomBytes = (n: number) => Uint8Array;

const DAY_MS = 24 * 60 * 60 * 1000;

/** 20 years, as Swarm: the root outlives any cluster we expect; rotating it is a cluster-wide event. */
export const DEFAULT_ROOT_CA_VALIDITY_DAYS = 20 * 365;

/**
 * Certificates start one hour before "now" (Swarm's CertBackdate): a node whose clock is a
 * little behind the manager's must not reject a certificate that was just issued to it.
 */
export const CERT_BACKDATE_MS = 60 * 60 * 1000;

/** The subject CN of every tswarm root, like Swarm's "swarm-ca". */
export const ROOT_CA_COMMON_NAME = 'swarm-ca';

/** A root CA with its signing key; only managers hold `keyPem`. */
export interface RootCA {
  certPem: string;
  keyPem: string;
}

export interface CreateRootCAOptions {
  /** Put into the subject's O so operators can tell clusters' roots apart. */
  clusterId?: string;
  now: Date;
  validityDays?: number;
  randomBytes?: RandomBytes;
}

export async function createRootCA(opts: CreateRootCAOptions): Promise<RootCA> {
  const validityDays = opts.validityDays ?? DEFAULT_ROOT_CA_VALIDITY_DAYS;
  if (!(validityDays > 0)) throw new Error(`root CA validity must be a positive number of days, got ${validityDays}`);
  if (opts.clusterId !== undefined) checkId('cluster ID', opts.clusterId);
  const keys = await generateKeyPair();
  const name: x509.JsonName = [{ CN: [ROOT_CA_COMMON_NAME] }];
  if (opts.clusterId !== undefined) name.push({ O: [opts.clusterId] });
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerialHex(opts.randomBytes ?? nodeRandomBytes),
    name,
    keys,
    signingAlgorithm: EC_ALGORITHM,
    notBefore: new Date(opts.now.getTime() - CERT_BACKDATE_MS),
    notAfter: new Date(opts.now.getTime() + validityDays * DAY_MS),
    extensions: [
      // No pathLength limit: a later root rotation may cross-sign through an intermediate.
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey as CryptoKeyLike),
    ],
  });
  return { certPem: cert.toString('pem'), keyPem: await exportPrivateKeyPem(keys.privateKey) };
}

// @peculiar/x509 types its keys with the DOM's CryptoKey; Node's is the same object.
type CryptoKeyLike = Parameters<typeof x509.SubjectKeyIdentifierExtension.create>[0];

/**
 * Checks that `caPem` is one self-signed CA certificate and returns Node's parsed form.
 * Used for every CA that comes from outside this process (disk, the network).
 */
export function parseRootCACert(caPem: string): NodeX509 {
  const der = pemToDer(caPem, 'CERTIFICATE', 'root CA certificate');
  let ca: NodeX509;
  try {
    ca = new NodeX509(Buffer.from(der));
  } catch (e) {
    throw new Error(`root CA certificate does not parse: ${(e as Error).message}`);
  }
  if (!ca.ca) throw new Error(`root CA certificate (${ca.subject.replace(/\n/g, ', ')}) is not a CA: basic constraints CA is false`);
  if (!ca.checkIssued(ca) || !ca.verify(ca.publicKey)) {
    throw new Error(`root CA certificate (${ca.subject.replace(/\n/g, ', ')}) is not self-signed; tswarm trusts only a root`);
  }
  return ca;
}
