// Shared test fixtures: deterministic randomness and a clock, and one CA per file.
import { createHash } from 'node:crypto';
import { createNodeKeyAndCSR, createRootCA, issueNodeCert, NodeRole, RootCA, TlsIdentity } from '../src/index.js';
import { seededRng } from '@tswarm/api';

/** A fixed instant all tests treat as "now". */
export const NOW = new Date('2030-01-15T12:00:00.000Z');
export const DAY_MS = 24 * 60 * 60 * 1000;

/** Deterministic bytes: SHA-256 of (seed, counter). Same seed, same sequence. */
export function seededBytes(seed: string): (n: number) => Uint8Array {
  let counter = 0;
  return (n: number) => {
    const out = Buffer.alloc(n);
    for (let off = 0; off < n; off += 32) {
      createHash('sha256').update(`${seed}:${counter++}`).digest().copy(out, off);
    }
    return new Uint8Array(out);
  };
}

/** The shared seeded PRNG (mulberry32, in @tswarm/api). */
export { seededRng };

export async function makeCA(clusterId = 'cluster1'): Promise<RootCA> {
  return createRootCA({ clusterId, now: NOW, randomBytes: seededBytes(`ca-${clusterId}`) });
}

/** A node's full TLS identity, issued by `ca`. */
export async function makeNode(ca: RootCA, nodeId: string, role: NodeRole, clusterId = 'cluster1', now = NOW): Promise<TlsIdentity> {
  const { keyPem, csrPem } = await createNodeKeyAndCSR();
  const certPem = await issueNodeCert({ ca, csrPem, nodeId, role, clusterId, now });
  return { caPem: ca.certPem, certPem, keyPem };
}
