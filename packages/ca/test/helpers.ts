// Shared test fixtures: deterministic randomness and a clock, and one CA per file.
import { createHash } from 'node:crypto';
import { createNodeKeyAndCSR, createRootCA, issueNodeCert, NodeRole, RootCA, TlsIdentity } from '../src/index.js';

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

/** A small deterministic PRNG in [0, 1) (mulberry32). */
export function seededRng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function makeCA(clusterId = 'cluster1'): Promise<RootCA> {
  return createRootCA({ clusterId, now: NOW, randomBytes: seededBytes(`ca-${clusterId}`) });
}

/** A node's full TLS identity, issued by `ca`. */
export async function makeNode(ca: RootCA, nodeId: string, role: NodeRole, clusterId = 'cluster1', now = NOW): Promise<TlsIdentity> {
  const { keyPem, csrPem } = await createNodeKeyAndCSR();
  const certPem = await issueNodeCert({ ca, csrPem, nodeId, role, clusterId, now });
  return { caPem: ca.certPem, certPem, keyPem };
}
