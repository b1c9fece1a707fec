// The certificate renewer against a fake NodeCA on a real mTLS gRPC server: it renews at
// the scheduled time, saves and swaps the new identity into live client and server
// credentials, retries failures with backoff, and waits for the role it was asked for.
import { strict as assert } from 'node:assert';
import { X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { NodeCAService, NodeCAServer, waitUntil } from '@tswarm/api';
import {
  createNodeKeyAndCSR, createRootCA, issueNodeCert, MIN_NODE_CERT_VALIDITY_MS, NodeCredentials, NodeKeyStore, NodeRole,
  parseNodeIdentity, peerIdentity, renewalRetryDelayMs, RootCA, serverCredentials, TlsIdentity,
} from '@tswarm/ca';
import { CertRenewer, RenewerTimers } from '../src/cert-renewer.js';

const CLUSTER = 'cluster1';
const HOUR_DAYS = MIN_NODE_CERT_VALIDITY_MS / (24 * 3600_000); // the shortest validity the CA allows
const quiet = { debug() {}, info() {}, warn(...a: unknown[]) { if (process.env['DEBUG_RENEW']) console.log(...a); }, error() {}, child() { return quiet; } } as never;

async function identity(ca: RootCA, nodeId: string, role: NodeRole, now = new Date()): Promise<TlsIdentity> {
  const { keyPem, csrPem } = await createNodeKeyAndCSR();
  return { caPem: ca.certPem, keyPem, certPem: await issueNodeCert({ ca, csrPem, nodeId, role, clusterId: CLUSTER, now, validityDays: HOUR_DAYS }) };
}

/** Timers the test fires by hand, with a clock it moves. */
class HandTimers implements RenewerTimers {
  now = Date.now();
  pending: Array<{ fn: () => void; ms: number; cancelled: boolean }> = [];
  nowMs = () => this.now;
  setTimeout = (fn: () => void, ms: number) => {
    const t = { fn, ms, cancelled: false };
    this.pending.push(t);
    return t;
  };
  clearTimeout = (h: unknown) => { (h as { cancelled: boolean }).cancelled = true; };
  /** The one live timer: moves the clock to it and fires it. */
  fire(): number {
    const live = this.pending.filter((t) => !t.cancelled);
    assert.equal(live.length, 1, 'exactly one timer armed');
    this.pending = [];
    this.now += live[0]!.ms;
    live[0]!.fn();
    return live[0]!.ms;
  }
}

describe('certificate renewer (fake NodeCA over mTLS)', () => {
  let ca: RootCA;
  let server: grpc.Server;
  let addr: string;
  let dir: string;
  /** What the fake CA does with the next calls; default: sign with the caller's role. */
  let behave: Array<'fail' | NodeRole> = [];
  /** Serial numbers of the client certificates the CA saw, in order. */
  let presented: string[] = [];

  before(async () => {
    ca = await createRootCA({ clusterId: CLUSTER, now: new Date() });
    const managerTls = await identity(ca, 'mgr1', 'manager');
    const impl: Pick<NodeCAServer, 'renewNodeCertificate'> = {
      renewNodeCertificate: (call, cb) => {
        const who = peerIdentity(call as never);
        presented.push(new X509Certificate(call.getAuthContext().sslPeerCertificate!.raw!).serialNumber);
        const next = behave.shift();
        if (next === 'fail') return cb({ code: grpc.status.UNAVAILABLE, details: 'the CA is busy' } as grpc.ServiceError);
        void issueNodeCert({ ca, csrPem: call.request.csrPem, nodeId: who!.nodeId, role: next ?? who!.role, clusterId: CLUSTER, now: new Date(), validityDays: HOUR_DAYS })
          .then((certificatePem) => cb(null, { certificatePem }), (e: Error) => cb({ code: grpc.status.INVALID_ARGUMENT, details: e.message } as grpc.ServiceError));
      },
    };
    server = new grpc.Server();
    server.addService(NodeCAService, impl as NodeCAServer);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', serverCredentials({ ...managerTls, clientCerts: 'require' }), (e, p) => (e ? reject(e) : resolve(p))));
    addr = `127.0.0.1:${port}`;
  });

  after(() => server.forceShutdown());

  beforeEach(async () => {
    behave = [];
    presented = [];
    dir = await mkdtemp(path.join(tmpdir(), 'tswarm-renew-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  function renewer(creds: NodeCredentials, timers: HandTimers, onSaved: (tls: TlsIdentity) => void, rng = () => 0.5) {
    const keys = new NodeKeyStore(dir);
    return new CertRenewer({
      credentials: creds, managers: () => [addr], timers, rng, logger: quiet,
      save: (tls) => keys.save(tls),
      onRenewed: () => onSaved(creds.tls), // after it was saved and swapped in
    });
  }
  const saved = () => {
    let resolve!: (t: TlsIdentity) => void;
    const p = new Promise<TlsIdentity>((r) => (resolve = r));
    return { p, cb: (t: TlsIdentity) => resolve(t) };
  };

  it('renews between 50% and 80% of validity, saves the new identity and swaps it in live', async () => {
    const first = await identity(ca, 'node7', 'worker');
    const creds = new NodeCredentials(first);
    const served = creds.server('require');
    const timers = new HandTimers();
    const s = saved();
    const r = renewer(creds, timers, s.cb);
    r.start();
    const id = parseNodeIdentity(first.certPem);
    const validity = id.notAfter.getTime() - id.notBefore.getTime();
    timers.fire(); // rng 0.5 → 65% of validity, measured from notBefore
    const fraction = (timers.now - id.notBefore.getTime()) / validity;
    assert.ok(Math.abs(fraction - 0.65) < 0.001, `renewed at ${fraction} of validity`);
    const renewed = await s.p;
    r.stop();

    assert.notEqual(renewed.certPem, first.certPem);
    assert.notEqual(renewed.keyPem, first.keyPem, 'a new key each time');
    assert.equal(creds.tls.certPem, renewed.certPem, 'live credentials hold the new certificate');
    assert.equal(creds.identity.nodeId, 'node7');
    assert.equal((await new NodeKeyStore(dir).load())?.certPem, renewed.certPem, 'saved with NodeKeyStore');
    // Server credentials made from the holder were updated too (NodeServerCredentials.update).
    assert.ok(served.credentials instanceof grpc.ServerCredentials);
    served.release();
  });

  it('presents the renewed certificate on its next connection (client credentials follow)', async () => {
    const creds = new NodeCredentials(await identity(ca, 'node8', 'worker'));
    const timers = new HandTimers();
    let s = saved();
    const r = renewer(creds, timers, (t) => s.cb(t));
    r.start();
    timers.fire();
    const one = await s.p;
    s = saved();
    // The fake clock ran ahead of the CA's real one, so the next renewal may be due at once.
    await waitUntil('a renewal presented or scheduled', () => presented.length === 2 || timers.pending.some((t) => !t.cancelled));
    if (presented.length < 2) timers.fire();
    await s.p;
    r.stop();
    const serialOf = (pem: string) => new X509Certificate(pem).serialNumber;
    assert.equal(presented.length, 2);
    assert.equal(presented[1], serialOf(one.certPem), 'the second call was authenticated with the first renewal');
  });

  it('retries a failed renewal with backoff and keeps the old certificate meanwhile', async () => {
    const first = await identity(ca, 'node9', 'worker');
    const creds = new NodeCredentials(first);
    const timers = new HandTimers();
    const s = saved();
    const rng = () => 0.25;
    const r = renewer(creds, timers, s.cb, rng);
    behave = ['fail', 'fail'];
    r.start();
    timers.fire();
    await waitUntil('the first renewal presented and the next scheduled', () => presented.length === 1 && timers.pending.some((t) => !t.cancelled));
    assert.equal(creds.tls.certPem, first.certPem);
    assert.equal(timers.fire(), renewalRetryDelayMs(0, rng));
    await waitUntil('the second renewal presented and the next scheduled', () => presented.length === 2 && timers.pending.some((t) => !t.cancelled));
    assert.equal(timers.fire(), renewalRetryDelayMs(1, rng), 'backs off');
    await s.p;
    r.stop();
    assert.notEqual(creds.tls.certPem, first.certPem);
  });

  it('renewNow for a promotion waits until the CA issues a manager certificate', async () => {
    const creds = new NodeCredentials(await identity(ca, 'node10', 'worker'));
    const timers = new HandTimers();
    const s = saved();
    const r = renewer(creds, timers, s.cb);
    r.start();
    behave = ['worker', 'manager']; // the first manager asked has not seen the promotion yet
    r.renewNow('promoted', 'manager'); // at once: no timer
    await waitUntil('the first renewal presented and the next scheduled', () => presented.length === 1 && timers.pending.some((t) => !t.cancelled));
    assert.equal(creds.identity.role, 'worker', 'a worker certificate is not taken for a promotion');
    timers.fire();
    await s.p;
    r.stop();
    assert.equal(creds.identity.role, 'manager');
  });
});

