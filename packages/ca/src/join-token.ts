// Join tokens, in Swarm's v1 format:
//
//   SWMTKN-1-<digest>-<secret>
//   digest: SHA-256 of the root CA certificate, base 36, zero-padded to 50 chars
//           (ceil(256 / log2 36) = 50)
//   secret: 16 random bytes (128 bits), base 36, zero-padded to 25 chars
//           (ceil(128 / log2 36) = 25)
//
// The digest lets a joining node pin the CA before it trusts anything a manager says (see
// tls.ts for the handshake); the secret is the credential that decides the role. There is
// one token per role; both share the digest. Rotating a token means a new secret with the
// same digest, and the old token stops granting anything immediately.
//
// One difference from Swarm: we digest the certificate's DER, not its PEM text, so
// re-encoding the PEM (line length, trailing newline) cannot change the digest. The PEM
// must hold exactly one certificate, which keeps Swarm's protection against a
// man-in-the-middle that appends its own certificate to a bundle.
import { createHash, timingSafeEqual } from 'node:crypto';
import { NodeRole } from './identity.js';
import { pemToDer } from './pem.js';
import { RandomBytes } from './root-ca.js';

export const JOIN_TOKEN_PREFIX = 'SWMTKN';
export const JOIN_TOKEN_VERSION = 1;
export const JOIN_TOKEN_DIGEST_CHARS = 50;
export const JOIN_TOKEN_SECRET_CHARS = 25;
export const JOIN_TOKEN_SECRET_BYTES = 16;

const FORMAT = `${JOIN_TOKEN_PREFIX}-${JOIN_TOKEN_VERSION}-<digest>-<secret>`;
const BASE36 = /^[0-9a-z]+$/;
const MAX_SHA256 = (1n << 256n) - 1n;

export class JoinTokenError extends Error {
  override name = 'JoinTokenError';
}

export interface ParsedJoinToken {
  version: 1;
  /** The root CA digest as written in the token (50 base-36 chars). */
  rootDigest: string;
  /** The same digest as 64 hex chars, for logs and comparisons with `openssl x509 -fingerprint -sha256`. */
  rootDigestHex: string;
  /** 25 base-36 chars. A credential: never log it. */
  secret: string;
}

/** The root CA digest as it appears in join tokens. */
export function rootCADigest(caCertPem: string): string {
  const der = pemToDer(caCertPem, 'CERTIFICATE', 'root CA certificate');
  const hex = createHash('sha256').update(der).digest('hex');
  return BigInt(`0x${hex}`).toString(36).padStart(JOIN_TOKEN_DIGEST_CHARS, '0');
}

/** A new token for `caCertPem` with a fresh secret from `randomBytes` (crypto.randomBytes in production). */
export function makeJoinToken(caCertPem: string, randomBytes: RandomBytes): string {
  return format(rootCADigest(caCertPem), newSecret(randomBytes));
}

/** Token rotation: the same CA digest, a new secret. */
export function rotateJoinToken(token: string, randomBytes: RandomBytes): string {
  return format(parseJoinToken(token).rootDigest, newSecret(randomBytes));
}

function newSecret(randomBytes: RandomBytes): string {
  const bytes = randomBytes(JOIN_TOKEN_SECRET_BYTES);
  if (bytes.length !== JOIN_TOKEN_SECRET_BYTES) throw new Error(`randomBytes(${JOIN_TOKEN_SECRET_BYTES}) returned ${bytes.length} bytes`);
  const n = BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
  return n.toString(36).padStart(JOIN_TOKEN_SECRET_CHARS, '0');
}

function format(digest: string, secret: string): string {
  return `${JOIN_TOKEN_PREFIX}-${JOIN_TOKEN_VERSION}-${digest}-${secret}`;
}

/**
 * Parses a token, or throws a JoinTokenError whose one-line message says what is wrong.
 * Messages never echo the token: it is a credential and errors end up in logs.
 */
export function parseJoinToken(s: string): ParsedJoinToken {
  const fail = (why: string): never => {
    throw new JoinTokenError(`invalid join token: expected ${FORMAT} (${why}); copy the whole token again from a manager`);
  };
  if (typeof s !== 'string' || s.trim() === '') fail('the token is empty');
  const parts = s.trim().split('-');
  if (parts[0] !== JOIN_TOKEN_PREFIX) fail(`it must start with ${JOIN_TOKEN_PREFIX}-`);
  if (parts.length < 4) fail(`found ${parts.length} dash-separated part${parts.length === 1 ? '' : 's'}, expected 4`);
  if (parts[1] === '2') fail('version 2 (FIPS) tokens are not supported');
  if (parts[1] !== String(JOIN_TOKEN_VERSION)) fail(`unknown token version ${JSON.stringify((parts[1] ?? '').slice(0, 8))}`);
  if (parts.length !== 4) fail(`found ${parts.length} dash-separated parts, expected 4`);
  const [, , digest, secret] = parts as [string, string, string, string];
  if (digest.length !== JOIN_TOKEN_DIGEST_CHARS || !BASE36.test(digest)) {
    fail(`the digest must be ${JOIN_TOKEN_DIGEST_CHARS} lower-case base-36 characters, found ${describe(digest)}`);
  }
  if (secret.length !== JOIN_TOKEN_SECRET_CHARS || !BASE36.test(secret)) {
    fail(`the secret must be ${JOIN_TOKEN_SECRET_CHARS} lower-case base-36 characters, found ${describe(secret)}`);
  }
  const value = parseBase36(digest);
  if (value > MAX_SHA256) fail('the digest is larger than a SHA-256 value');
  return { version: 1, rootDigest: digest, rootDigestHex: value.toString(16).padStart(64, '0'), secret };
}

function describe(part: string): string {
  return BASE36.test(part) ? `${part.length}` : `${part.length} including characters outside 0-9a-z`;
}

function parseBase36(s: string): bigint {
  let n = 0n;
  for (const c of s) n = n * 36n + BigInt(parseInt(c, 36));
  return n;
}

/**
 * True when the token was made for this root CA. A joining node checks this against the CA a
 * manager presents before sending the token to it; a manager checks it to give a precise
 * error ("this token belongs to another cluster") rather than a bare refusal.
 */
export function digestMatches(token: string | ParsedJoinToken, caCertPem: string): boolean {
  const parsed = typeof token === 'string' ? parseJoinToken(token) : token;
  return parsed.rootDigest === rootCADigest(caCertPem);
}

export interface ClusterJoinTokens {
  worker: string;
  manager: string;
}

/**
 * The role a presented token grants, or null. Compares in constant time against both
 * current tokens (no early exit), so response timing reveals neither a prefix of a secret
 * nor which role a guess came close to. A malformed token grants nothing.
 */
export function tokenGrantsRole(presented: string, current: ClusterJoinTokens): NodeRole | null {
  let candidate: Buffer;
  try {
    const p = parseJoinToken(presented);
    candidate = Buffer.from(format(p.rootDigest, p.secret));
  } catch {
    return null;
  }
  const worker = sameToken(candidate, current.worker);
  const manager = sameToken(candidate, current.manager);
  // Both tokens equal would be a bug in token generation; refuse rather than pick a role.
  if (worker && manager) return null;
  return manager ? 'manager' : worker ? 'worker' : null;
}

function sameToken(candidate: Buffer, expected: string): boolean {
  const e = Buffer.from(expected.trim());
  // Every well-formed v1 token has the same length, so this branch leaks nothing secret.
  if (e.length !== candidate.length) return false;
  return timingSafeEqual(candidate, e);
}
