// The Raft transport wired as the manager wires it, with mutual TLS on 127.0.0.1: the Pipes
// carry messages both ways, and a member cannot speak for another on either side of a Pipe.
import { strict as assert } from 'node:assert';
import * as grpc from '@grpc/grpc-js';
import { createNodeKeyAndCSR, createRootCA, issueNodeCert, NODE_CHANNEL_OPTIONS, NodeCredentials, peerIdentity, requireRole, RootCA } from '@tswarm/ca';
import { GrpcTransport, Message, RAFT_SERVICE } from '@tswarm/raft';

const CLUSTER = 'cluster1';

interface Member {
  transport: GrpcTransport;
  server: grpc.Server;
  port: number;
  received: Message[];
}

async function member(ca: RootCA, id: string): Promise<Member> {
  const { keyPem, csrPem } = await createNodeKeyAndCSR();
  const certPem = await issueNodeCert({ ca, csrPem, nodeId: id, role: 'manager', clusterId: CLUSTER, now: new Date() });
  const creds = new NodeCredentials({ caPem: ca.certPem, certPem, keyPem });
  const received: Message[] = [];
  const transport = new GrpcTransport({
    id,
    credentials: creds.client({ expectRole: 'manager' }),
    channelOptions: NODE_CHANNEL_OPTIONS,
    handlers: { onMessage: (m) => received.push(m), onUnreachable: () => {}, onSnapshotStatus: () => {} },
    authorize: (call) => requireRole(call as never, ['manager'], { clusterId: CLUSTER }).nodeId,
    identifyServer: (call) => peerIdentity(call)?.nodeId,
  });
  const server = new grpc.Server();
  server.addService(RAFT_SERVICE, transport.service());
  const port = await new Promise<number>((res, rej) =>
    server.bindAsync('127.0.0.1:0', creds.server('verify-if-given').credentials, (e, p) => (e ? rej(e) : res(p))));
  return { transport, server, port, received };
}

const msg = (from: string, to: string, index: number): Message => ({
  type: 'heartbeat', from, to, term: 2, logTerm: 0, index, commit: 0, reject: false, rejectHint: 0, entries: [],
});

/** Sends `batch()` every 10 ms until `done()`; fails after 10 s. */
async function sendUntil(t: GrpcTransport, batch: () => Message[], done: () => boolean): Promise<void> {
  const end = Date.now() + 10_000;
  while (!done()) {
    if (Date.now() > end) throw new Error('messages did not arrive in time');
    t.send(batch());
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('raft transport between managers with mutual TLS', function () {
  this.timeout(20_000);
  let ca: RootCA;
  let a: Member;
  let b: Member;
  const extra: Member[] = [];

  before(async () => {
    ca = await createRootCA({ clusterId: CLUSTER, now: new Date() });
    a = await member(ca, 'a');
    b = await member(ca, 'b');
    a.transport.addPeer('b', `127.0.0.1:${b.port}`);
    b.transport.addPeer('a', `127.0.0.1:${a.port}`);
  });
  after(() => {
    for (const m of [a, b, ...extra]) {
      m.transport.close();
      m.server.forceShutdown();
    }
  });

  it('carries messages both ways', async () => {
    let i = 0;
    await sendUntil(a.transport, () => [msg('a', 'b', ++i)], () => b.received.length > 0);
    await sendUntil(b.transport, () => [msg('b', 'a', ++i)], () => a.received.length > 0);
    assert.ok(a.received.every((m) => m.from === 'b'));
    assert.ok(b.received.every((m) => m.from === 'a'));
  });

  it('drops messages a member sends in another member\'s name on a Pipe it dialed', async () => {
    const before = a.received.length;
    let i = 1000;
    await sendUntil(b.transport, () => [msg('c', 'a', ++i), msg('b', 'a', ++i)], () => a.received.length - before >= 5);
    assert.ok(a.received.slice(before).every((m) => m.from === 'b'));
  });

  it('drops messages a member sends in another member\'s name on the Pipe dialed to it', async () => {
    const e = await member(ca, 'e');
    extra.push(e);
    e.transport.addPeer('a', '127.0.0.1:1'); // e can only answer on the Pipe a dials to it
    a.transport.addPeer('e', `127.0.0.1:${e.port}`);
    const before = a.received.length;
    let i = 2000;
    await sendUntil(e.transport, () => [msg('c', 'a', ++i), msg('e', 'a', ++i)], () => a.received.length - before >= 5);
    assert.ok(a.received.slice(before).every((m) => m.from === 'e'));
  });
});
