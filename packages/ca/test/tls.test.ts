// A real grpc-js server with mutual TLS on 127.0.0.1, exercising credentials, peer identity
// and the join handshake end to end.
import { strict as assert } from 'node:assert';
import * as grpc from '@grpc/grpc-js';
import {
  bootstrapCredentials,
  clientCredentials,
  createNodeKeyAndCSR,
  createRootCA,
  issueNodeCert,
  joinCredentials,
  JoinPinningError,
  makeJoinToken,
  NodeCredentials,
  NODE_CHANNEL_OPTIONS,
  parseNodeIdentity,
  peerIdentity,
  pinRootCA,
  requireRole,
  RootCA,
  serverCredentials,
  tokenGrantsRole,
  ClientCertPolicy,
  TlsIdentity,
} from '../src/index.js';
import { makeNode, seededBytes } from './helpers.js';

// A hand-written service with JSON messages, so the test needs no proto.
const json = {
  requestSerialize: (v: unknown) => Buffer.from(JSON.stringify(v)),
  requestDeserialize: (b: Buffer) => JSON.parse(b.toString()),
  responseSerialize: (v: unknown) => Buffer.from(JSON.stringify(v)),
  responseDeserialize: (b: Buffer) => JSON.parse(b.toString()),
  requestStream: false,
  responseStream: false,
} as const;
const SERVICE = {
  managerOnly: { path: '/tswarm.test.Probe/ManagerOnly', ...json },
  getRootCA: { path: '/tswarm.test.Probe/GetRootCA', ...json },
  issue: { path: '/tswarm.test.Probe/Issue', ...json },
} satisfies grpc.ServiceDefinition;
const ProbeClient = grpc.makeGenericClientConstructor(SERVICE, 'Probe');
type Unary = grpc.handleUnaryCall<any, any>;

interface Running {
  port: number;
  server: grpc.Server;
}

async function startServer(ca: RootCA, id: TlsIdentity, clientCerts: ClientCertPolicy, tokens?: { worker: string; manager: string }): Promise<Running> {
  const server = new grpc.Server();
  const managerOnly: Unary = (call, cb) => {
    try {
      cb(null, requireRole(call, ['manager']));
    } catch (e) {
      cb(e as grpc.ServiceError);
    }
  };
  // The CA's two join RPCs need no client certificate.
  const getRootCA: Unary = (_call, cb) => cb(null, { certPem: ca.certPem });
  const issue: Unary = async (call, cb) => {
    const role = tokens ? tokenGrantsRole(call.request.token, tokens) : null;
    if (!role) return cb({ code: grpc.status.PERMISSION_DENIED, details: 'invalid join token' });
    const certPem = await issueNodeCert({ ca, csrPem: call.request.csrPem, nodeId: 'joined-1', role, clusterId: 'cluster1', now: new Date() });
    cb(null, { certPem, caller: peerIdentity(call) });
  };
  server.addService(SERVICE, { managerOnly, getRootCA, issue });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', serverCredentials({ ...id, clientCerts }), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { port, server };
}

function call(port: number, creds: grpc.ChannelCredentials, method: keyof typeof SERVICE, request: unknown = {}): Promise<any> {
  const client = new ProbeClient(`127.0.0.1:${port}`, creds, NODE_CHANNEL_OPTIONS) as any;
  return new Promise((resolve, reject) => {
    client[method](request, { deadline: Date.now() + 5000 }, (err: grpc.ServiceError | null, res: unknown) => {
      client.close();
      err ? reject(err) : resolve(res);
    });
  });
}

function rejectsWith(p: Promise<unknown>, code: grpc.status, details?: RegExp): Promise<void> {
  return assert.rejects(p, (e: grpc.ServiceError) => {
    assert.equal(e.code, code, `got ${grpc.status[e.code]}: ${e.details}`);
    if (details) assert.match(e.details, details);
    return true;
  });
}

// Certificates are issued at the real clock here: Node's TLS checks validity against it.
const REAL = () => new Date();
const realCA = (clusterId: string) => createRootCA({ clusterId, now: REAL() });

describe('mutual TLS between nodes (grpc-js on 127.0.0.1)', function () {
  this.timeout(20_000);
  let ca: RootCA;
  let foreignCA: RootCA;
  let manager: TlsIdentity;
  let worker: TlsIdentity;
  let strict: Running;

  before(async () => {
    ca = await realCA('cluster1');
    foreignCA = await realCA('cluster2');
    manager = await makeNode(ca, 'mgr-1', 'manager', 'cluster1', REAL());
    worker = await makeNode(ca, 'wrk-1', 'worker', 'cluster1', REAL());
    strict = await startServer(ca, manager, 'require');
  });
  after(() => strict.server.forceShutdown());

  it('accepts a client with a manager certificate and tells the handler who it is', async () => {
    const res = await call(strict.port, clientCredentials({ ...manager, expectRole: 'manager' }), 'managerOnly');
    assert.equal(res.nodeId, 'mgr-1');
    assert.equal(res.role, 'manager');
    assert.equal(res.clusterId, 'cluster1');
  });

  it('refuses a client without a certificate in the TLS handshake', async () => {
    await rejectsWith(call(strict.port, clientCredentials({ caPem: ca.certPem }), 'managerOnly'), grpc.status.UNAVAILABLE, /certificate required/);
  });

  it('refuses a client whose certificate comes from another CA', async () => {
    const intruder = await makeNode(foreignCA, 'mgr-x', 'manager', 'cluster2', REAL());
    // clientCredentials refuses to pair a certificate with a CA that did not issue it, so the
    // intruder builds its credentials by hand: it trusts our CA but presents its own certificate.
    assert.throws(() => clientCredentials({ caPem: ca.certPem, certPem: intruder.certPem, keyPem: intruder.keyPem }), /not issued by the root CA/);
    const creds = grpc.credentials.createSsl(Buffer.from(ca.certPem), Buffer.from(intruder.keyPem), Buffer.from(intruder.certPem), {
      checkServerIdentity: () => undefined,
    });
    await rejectsWith(call(strict.port, creds, 'managerOnly'), grpc.status.UNAVAILABLE);
  });

  it('denies a worker a manager-only call with PERMISSION_DENIED and a sentence', async () => {
    await rejectsWith(
      call(strict.port, clientCredentials(worker), 'managerOnly'),
      grpc.status.PERMISSION_DENIED,
      /^permission denied: this call needs a manager certificate; node wrk-1 is a worker$/,
    );
  });

  it('lets the client refuse a server of the wrong role or another CA', async () => {
    const workerServer = await startServer(ca, worker, 'require');
    try {
      await rejectsWith(
        call(workerServer.port, clientCredentials({ ...manager, expectRole: 'manager' }), 'managerOnly'),
        grpc.status.UNAVAILABLE,
        /server wrk-1 is a worker, but this connection needs a manager/,
      );
    } finally {
      workerServer.server.forceShutdown();
    }
    const foreign = await makeNode(foreignCA, 'mgr-x', 'manager', 'cluster2', REAL());
    const foreignServer = await startServer(foreignCA, foreign, 'require');
    try {
      await rejectsWith(call(foreignServer.port, clientCredentials(manager), 'managerOnly'), grpc.status.UNAVAILABLE, /self-signed certificate in certificate chain/);
    } finally {
      foreignServer.server.forceShutdown();
    }
  });

  it('serves a renewed certificate after update() without a restart', async () => {
    const id = await makeNode(ca, 'mgr-2', 'manager', 'cluster1', REAL());
    const creds = serverCredentials(id);
    const server = new grpc.Server();
    server.addService(SERVICE, { managerOnly: (_c: unknown, cb: any) => cb(null, {}), getRootCA: () => {}, issue: () => {} });
    const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', creds, (e, p) => (e ? rej(e) : res(p))));
    try {
      await call(port, clientCredentials({ ...manager, expectNodeId: 'mgr-2' }), 'managerOnly');
      const renewed = await makeNode(ca, 'mgr-2-renewed', 'manager', 'cluster1', REAL());
      creds.update(renewed);
      await call(port, clientCredentials({ ...manager, expectNodeId: 'mgr-2-renewed' }), 'managerOnly');
    } finally {
      server.forceShutdown();
    }
  });

  it('NodeCredentials: servers and clients made from it follow update() (renewal, promotion)', async () => {
    const holder = new NodeCredentials(await makeNode(ca, 'mgr-3', 'manager', 'cluster1', REAL()));
    const served = holder.server('require');
    const server = new grpc.Server();
    // Answers with the caller's identity, to see which certificate the client presented.
    server.addService(SERVICE, { managerOnly: (c: any, cb: any) => cb(null, peerIdentity(c)), getRootCA: () => {}, issue: () => {} });
    const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', served.credentials, (e, p) => (e ? rej(e) : res(p))));
    const worker = new NodeCredentials(await makeNode(ca, 'wrk-3', 'worker', 'cluster1', REAL()));
    try {
      assert.equal((await call(port, worker.client({ expectNodeId: 'mgr-3' }), 'managerOnly')).role, 'worker');
      holder.update(await makeNode(ca, 'mgr-3-renewed', 'manager', 'cluster1', REAL()));
      await call(port, worker.client({ expectNodeId: 'mgr-3-renewed' }), 'managerOnly');
      // The same client credentials object presents the promoted certificate on a new connection.
      const creds = worker.client({ expectRole: 'manager' });
      assert.equal((await call(port, creds, 'managerOnly')).role, 'worker');
      worker.update(await makeNode(ca, 'wrk-3', 'manager', 'cluster1', REAL()));
      assert.equal((await call(port, creds, 'managerOnly')).role, 'manager');
      assert.throws(() => worker.update({ ...worker.tls, keyPem: holder.tls.keyPem }), /does not match/);
    } finally {
      served.release();
      server.forceShutdown();
    }
  });
});

describe('the join handshake', function () {
  this.timeout(20_000);
  let ca: RootCA;
  let manager: TlsIdentity;
  let tokens: { worker: string; manager: string };
  let join: Running;

  before(async () => {
    ca = await realCA('cluster1');
    manager = await makeNode(ca, 'mgr-1', 'manager', 'cluster1', REAL());
    const rnd = seededBytes('join');
    tokens = { worker: makeJoinToken(ca.certPem, rnd), manager: makeJoinToken(ca.certPem, rnd) };
    join = await startServer(ca, manager, 'verify-if-given', tokens);
  });
  after(() => join.server.forceShutdown());

  it('fetches the CA unverified, pins it by digest, then sends the secret only over a verified channel', async () => {
    const presented = (await call(join.port, bootstrapCredentials(), 'getRootCA')).certPem as string;
    const pinned = pinRootCA(tokens.worker, presented);
    const { keyPem, csrPem } = await createNodeKeyAndCSR();
    const res = await call(join.port, joinCredentials(pinned), 'issue', { token: tokens.worker, csrPem });
    assert.equal(res.caller, null, 'the joiner is anonymous');
    const id = parseNodeIdentity(res.certPem);
    assert.equal(id.nodeId, 'joined-1');
    assert.equal(id.role, 'worker');
    // The new certificate works as a member credential on the same listener.
    await rejectsWith(
      call(join.port, clientCredentials({ caPem: pinned, certPem: res.certPem, keyPem }), 'managerOnly'),
      grpc.status.PERMISSION_DENIED,
      /node joined-1 is a worker/,
    );
  });

  it('stops before sending the secret when the presented CA is not the token\'s', async () => {
    const otherCA = await realCA('cluster2');
    const presented = (await call(join.port, bootstrapCredentials(), 'getRootCA')).certPem as string;
    const tokenForOther = makeJoinToken(otherCA.certPem, seededBytes('other'));
    assert.throws(() => pinRootCA(tokenForOther, presented), (e: Error) => e instanceof JoinPinningError && /nothing secret was sent/.test(e.message));
    assert.throws(() => pinRootCA(tokens.worker, presented + otherCA.certPem), JoinPinningError);
  });

  it('treats callers without a certificate, or with a foreign one, as anonymous: UNAUTHENTICATED', async () => {
    await rejectsWith(call(join.port, clientCredentials({ caPem: ca.certPem }), 'managerOnly'), grpc.status.UNAUTHENTICATED, /join the swarm first/);
    const foreignCA = await realCA('cluster2');
    const foreign = await makeNode(foreignCA, 'mgr-x', 'manager', 'cluster2', REAL());
    const creds = grpc.credentials.createSsl(Buffer.from(ca.certPem), Buffer.from(foreign.keyPem), Buffer.from(foreign.certPem), {
      checkServerIdentity: () => undefined,
    });
    await rejectsWith(call(join.port, creds, 'managerOnly'), grpc.status.UNAUTHENTICATED, /join the swarm first/);
  });

  it('refuses to issue for a wrong token', async () => {
    const { csrPem } = await createNodeKeyAndCSR();
    const bogus = makeJoinToken(ca.certPem, seededBytes('bogus'));
    await rejectsWith(call(join.port, joinCredentials(ca.certPem), 'issue', { token: bogus, csrPem }), grpc.status.PERMISSION_DENIED);
  });
});

