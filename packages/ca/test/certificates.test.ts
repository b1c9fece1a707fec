import { strict as assert } from 'node:assert';
import { X509Certificate } from 'node:crypto';
import {
  createNodeKeyAndCSR,
  issueNodeCert,
  parseNodeIdentity,
  verifyChain,
  CERT_BACKDATE_MS,
  ROLE_OU,
} from '../src/index.js';
// Internal: only to read extensions Node's X509Certificate does not expose (key usage bits).
import { x509 } from '../src/x509.js';
import { DAY_MS, makeCA, makeNode, NOW } from './helpers.js';

describe('root CA', () => {
  it('is a self-signed ECDSA P-256 CA allowed to sign certificates, valid 20 years', async () => {
    const ca = await makeCA('c1');
    const cert = new X509Certificate(ca.certPem);
    assert.equal(cert.ca, true);
    assert.ok(cert.checkIssued(cert) && cert.verify(cert.publicKey), 'self-signed');
    assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.equal(cert.subject, 'CN=swarm-ca\nO=c1');
    assert.ok(cert.checkPrivateKey(await import('node:crypto').then((c) => c.createPrivateKey(ca.keyPem))));

    const p = new x509.X509Certificate(ca.certPem);
    const ku = p.getExtension(x509.KeyUsagesExtension)!;
    assert.ok(ku.critical && ku.usages & x509.KeyUsageFlags.keyCertSign, 'key usage keyCertSign (critical)');
    const bc = p.getExtension(x509.BasicConstraintsExtension)!;
    assert.ok(bc.critical && bc.ca, 'basic constraints CA (critical)');
    assert.equal(p.notBefore.getTime(), NOW.getTime() - CERT_BACKDATE_MS);
    assert.equal(p.notAfter.getTime(), NOW.getTime() + 20 * 365 * DAY_MS);
  });

  it('gets a fresh random serial and key each time', async () => {
    const a = new X509Certificate((await makeCA('c1')).certPem);
    const b = new X509Certificate((await makeCA('c2')).certPem);
    assert.notEqual(a.serialNumber, b.serialNumber);
    assert.notEqual(a.fingerprint256, b.fingerprint256);
  });
});

describe('node certificates', () => {
  it('carry CN = node ID, OU = role, O = cluster ID, DNS SANs and both TLS purposes', async () => {
    const ca = await makeCA();
    const node = await makeNode(ca, 'node-a1', 'manager');
    const cert = new X509Certificate(node.certPem);
    assert.equal(cert.subject, 'O=cluster1\nOU=swarm-manager\nCN=node-a1');
    assert.equal(cert.subjectAltName, 'DNS:swarm-manager, DNS:node-a1');
    assert.deepEqual(cert.keyUsage.sort(), ['1.3.6.1.5.5.7.3.1', '1.3.6.1.5.5.7.3.2']); // serverAuth, clientAuth
    assert.equal(cert.ca, false);
    assert.ok(cert.checkIssued(new X509Certificate(ca.certPem)));
  });

  it('are valid for 90 days from the injected now (backdated one hour for clock skew)', async () => {
    const ca = await makeCA();
    const id = parseNodeIdentity((await makeNode(ca, 'n1', 'worker')).certPem);
    assert.deepEqual(id, {
      nodeId: 'n1',
      role: 'worker',
      clusterId: 'cluster1',
      notBefore: new Date(NOW.getTime() - CERT_BACKDATE_MS),
      notAfter: new Date(NOW.getTime() + 90 * DAY_MS),
    });
  });

  it('take their identity from the CA, ignoring what the CSR claims', async () => {
    const ca = await makeCA();
    // A worker's CSR that claims to be a manager of another cluster, with matching SANs.
    const { webcrypto } = await import('node:crypto');
    const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
    const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as any;
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({
      name: [{ O: ['evil-cluster'] }, { OU: [ROLE_OU.manager] }, { CN: ['leader'] }],
      keys,
      signingAlgorithm: alg,
      extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'swarm-manager' }])],
    });
    const certPem = await issueNodeCert({ ca, csrPem: csr.toString('pem'), nodeId: 'w7', role: 'worker', clusterId: 'cluster1', now: NOW });
    const cert = new X509Certificate(certPem);
    assert.equal(cert.subject, 'O=cluster1\nOU=swarm-worker\nCN=w7');
    assert.equal(cert.subjectAltName, 'DNS:swarm-worker, DNS:w7');
    assert.equal(parseNodeIdentity(certPem).role, 'worker');
  });

  it('are refused for a CSR whose signature does not verify (no proof of key possession)', async () => {
    const ca = await makeCA();
    const { csrPem } = await createNodeKeyAndCSR();
    const der = Buffer.from(csrPem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
    der[der.length - 5] ^= 0xff; // flip bits inside the signature
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    await assert.rejects(
      issueNodeCert({ ca, csrPem: tampered, nodeId: 'n1', role: 'worker', clusterId: 'cluster1', now: NOW }),
      /invalid certificate signing request/,
    );
  });

  it('are refused for bad node IDs and garbage CSRs with a message that says what to fix', async () => {
    const ca = await makeCA();
    const { csrPem } = await createNodeKeyAndCSR();
    const base = { ca, csrPem, role: 'worker' as const, clusterId: 'cluster1', now: NOW };
    await assert.rejects(issueNodeCert({ ...base, nodeId: 'bad id' }), /invalid node ID "bad id": use 1-63 letters/);
    await assert.rejects(issueNodeCert({ ...base, nodeId: 'n1', csrPem: 'hello' }), /invalid certificate signing request: .*found: no PEM block/);
    await assert.rejects(issueNodeCert({ ...base, nodeId: 'n1', validityDays: 0.01 }), /at least 1 hour/);
  });
});

describe('verifyChain', () => {
  it('accepts a leaf of our CA inside its validity window and returns its identity', async () => {
    const ca = await makeCA();
    const node = await makeNode(ca, 'n1', 'manager');
    assert.equal(verifyChain(node.certPem, ca.certPem, NOW).nodeId, 'n1');
  });

  it('rejects a leaf from another CA, and outside its validity window', async () => {
    const ca = await makeCA('cluster1');
    const other = await makeCA('cluster2');
    const node = await makeNode(ca, 'n1', 'manager');
    assert.throws(() => verifyChain(node.certPem, other.certPem, NOW), /not issued by this cluster's root CA/);
    assert.throws(() => verifyChain(node.certPem, ca.certPem, new Date(NOW.getTime() + 91 * DAY_MS)), /expired at .*renew it or join again/);
    const tomorrow = new Date(NOW.getTime() + DAY_MS);
    const later = await makeNode(ca, 'n2', 'worker', 'cluster1', tomorrow);
    assert.throws(() => verifyChain(later.certPem, ca.certPem, NOW), /node certificate of n2 is not valid until .*check this host's clock/);
  });
});
