import { strict as assert } from 'node:assert';
import { X509Certificate } from 'node:crypto';
import {
  digestMatches,
  JoinTokenError,
  makeJoinToken,
  parseJoinToken,
  rootCADigest,
  rotateJoinToken,
  tokenGrantsRole,
} from '../src/index.js';
import { makeCA, seededBytes } from './helpers.js';

describe('join tokens (SWMTKN-1-<digest>-<secret>)', () => {
  it('carry the SHA-256 of the root CA in base 36, padded to 50, and a 25-char secret', async () => {
    const ca = await makeCA();
    const token = makeJoinToken(ca.certPem, seededBytes('t'));
    assert.match(token, /^SWMTKN-1-[0-9a-z]{50}-[0-9a-z]{25}$/);
    const parsed = parseJoinToken(token);
    const sha = new X509Certificate(ca.certPem).fingerprint256.replace(/:/g, '').toLowerCase();
    assert.equal(parsed.rootDigestHex, sha);
    assert.equal(parsed.rootDigest, rootCADigest(ca.certPem));
    assert.equal(BigInt(`0x${sha}`).toString(36).padStart(50, '0'), parsed.rootDigest);
  });

  it('encode the 16 injected random bytes as the secret', async () => {
    const ca = await makeCA();
    const zeros = makeJoinToken(ca.certPem, (n) => new Uint8Array(n));
    assert.ok(zeros.endsWith('-' + '0'.repeat(25)));
    const ones = makeJoinToken(ca.certPem, (n) => new Uint8Array(n).fill(0xff));
    assert.equal(parseJoinToken(ones).secret, ((1n << 128n) - 1n).toString(36)); // 25 chars, no padding
  });

  it('reject malformed input with one line that names the expected format and never echoes the token', () => {
    const d = 'a'.repeat(50);
    const s = 'b'.repeat(25);
    const table: Array<[string, RegExp]> = [
      ['', /the token is empty/],
      ['   ', /the token is empty/],
      ['hello', /it must start with SWMTKN-/],
      [`SWMTKN`, /found 1 dash-separated part, expected 4/],
      [`SWMTKN-3-${d}-${s}`, /unknown token version "3"/],
      [`SWMTKN-2-1-${d}-${s}`, /version 2 \(FIPS\) tokens are not supported/],
      [`SWMTKN-1-${d}`, /found 3 dash-separated parts, expected 4/],
      [`SWMTKN-1-${d}-${s}-extra`, /found 5 dash-separated parts/],
      [`SWMTKN-1-${d.slice(1)}-${s}`, /the digest must be 50 lower-case base-36 characters, found 49/],
      [`SWMTKN-1-${d.toUpperCase()}-${s}`, /the digest must be 50 .* found 50 including characters outside 0-9a-z/],
      [`SWMTKN-1-${d}-${s}x`, /the secret must be 25 lower-case base-36 characters, found 26/],
      [`SWMTKN-1-${d}-${s.slice(0, 24)}!`, /the secret must be 25 .*outside 0-9a-z/],
      [`SWMTKN-1-${'z'.repeat(50)}-${s}`, /the digest is larger than a SHA-256 value/],
      [`swmtkn-1-${d}-${s}`, /it must start with SWMTKN-/],
    ];
    for (const [bad, why] of table) {
      assert.throws(
        () => parseJoinToken(bad),
        (e: Error) => {
          assert.ok(e instanceof JoinTokenError, `${JSON.stringify(bad)} threw ${e.name}`);
          assert.ok(e.message.startsWith('invalid join token: expected SWMTKN-1-<digest>-<secret> ('), e.message);
          assert.match(e.message, why);
          assert.ok(!e.message.includes('\n'));
          if (bad.length > 20) assert.ok(!e.message.includes(s.slice(0, 20)), 'secret not echoed');
          return true;
        },
      );
    }
  });

  it('tolerate surrounding whitespace from copy and paste', async () => {
    const ca = await makeCA();
    const token = makeJoinToken(ca.certPem, seededBytes('ws'));
    assert.equal(parseJoinToken(`  ${token}\n`).secret, parseJoinToken(token).secret);
  });

  it('pin the root CA: the digest matches our CA and not another cluster\'s', async () => {
    const ca = await makeCA('cluster1');
    const other = await makeCA('cluster2');
    const token = makeJoinToken(ca.certPem, seededBytes('pin'));
    assert.equal(digestMatches(token, ca.certPem), true);
    assert.equal(digestMatches(token, other.certPem), false);
    // The digest is over DER: re-wrapping the PEM does not change it.
    const rewrapped = ca.certPem.replace(/\n/g, '\r\n') + '\n';
    assert.equal(digestMatches(token, rewrapped), true);
    // A bundle is refused rather than matched on its first certificate.
    assert.throws(() => digestMatches(token, ca.certPem + other.certPem), /exactly one PEM "CERTIFICATE" block/);
  });

  it('grant the role of the token they equal, and nothing after rotation', async () => {
    const ca = await makeCA();
    const rnd = seededBytes('roles');
    const tokens = { worker: makeJoinToken(ca.certPem, rnd), manager: makeJoinToken(ca.certPem, rnd) };
    assert.equal(tokenGrantsRole(tokens.worker, tokens), 'worker');
    assert.equal(tokenGrantsRole(tokens.manager, tokens), 'manager');
    assert.equal(tokenGrantsRole(`\t${tokens.manager} `, tokens), 'manager');
    assert.equal(tokenGrantsRole('garbage', tokens), null);

    const rotated = { ...tokens, worker: rotateJoinToken(tokens.worker, rnd) };
    assert.equal(parseJoinToken(rotated.worker).rootDigest, parseJoinToken(tokens.worker).rootDigest, 'same digest');
    assert.notEqual(rotated.worker, tokens.worker);
    assert.equal(tokenGrantsRole(tokens.worker, rotated), null, 'old worker token no longer grants');
    assert.equal(tokenGrantsRole(rotated.worker, rotated), 'worker');
    assert.equal(tokenGrantsRole(tokens.manager, rotated), 'manager', 'the other role is untouched');
  });

  it('grant nothing when the secret is right but the digest names another CA', async () => {
    const ca = await makeCA('cluster1');
    const other = await makeCA('cluster2');
    const token = makeJoinToken(ca.certPem, seededBytes('x'));
    const secret = parseJoinToken(token).secret;
    const forged = `SWMTKN-1-${rootCADigest(other.certPem)}-${secret}`;
    assert.equal(tokenGrantsRole(forged, { worker: token, manager: makeJoinToken(ca.certPem, seededBytes('y')) }), null);
  });
});
