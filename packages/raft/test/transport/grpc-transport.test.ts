import { strict as assert } from 'node:assert';
import * as grpc from '@grpc/grpc-js';
import { waitUntil } from '@tswarm/api';
import { GrpcTransport, RAFT_SERVICE, SNAPSHOT_CHUNK_BYTES } from '../../src/index.js';
import type { Message } from '../../src/core/types.js';

function msg(from: string, to: string, index: number, extra: Partial<Message> = {}): Message {
  return {
    type: 'app', from, to, term: 3, logTerm: 2, index, commit: index - 1, reject: false, rejectHint: 0,
    entries: [{ term: 3, index: index + 1, type: 'normal', data: Buffer.from(`v${index}`) }], ...extra,
  };
}

interface Member {
  transport: GrpcTransport;
  server: grpc.Server;
  port: number;
  received: Message[];
  unreachable: string[];
  snapStatus: Array<[string, boolean]>;
}

async function member(id: string, authorize?: (call: unknown) => string | undefined, identifyServer?: () => string | undefined): Promise<Member> {
  const m = { received: [], unreachable: [], snapStatus: [] } as unknown as Member;
  m.transport = new GrpcTransport({
    id,
    credentials: grpc.credentials.createInsecure(),
    handlers: {
      onMessage: (x) => m.received.push(x),
      onUnreachable: (p) => m.unreachable.push(p),
      onSnapshotStatus: (p, ok) => m.snapStatus.push([p, ok]),
    },
    authorize: authorize as never,
    identifyServer,
  });
  m.server = new grpc.Server();
  m.server.addService(RAFT_SERVICE, m.transport.service());
  m.port = await new Promise<number>((res, rej) => m.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  return m;
}

describe('gRPC Raft transport', () => {
  const live: Member[] = [];
  afterEach(() => {
    for (const m of live.splice(0)) {
      m.transport.close();
      m.server.forceShutdown();
    }
  });

  it('delivers messages to a peer in order, entries and context intact', async () => {
    const a = await member('a');
    const b = await member('b');
    live.push(a, b);
    a.transport.addPeer('b', `127.0.0.1:${b.port}`);
    for (let i = 1; i <= 500; i++) a.transport.send([msg('a', 'b', i, i % 7 === 0 ? { context: Buffer.from('ctx') } : {})]);
    await waitUntil('500 messages received', () => b.received.length === 500);
    assert.deepEqual(b.received.map((m) => m.index), Array.from({ length: 500 }, (_, i) => i + 1));
    const m7 = b.received[6]!;
    assert.equal(Buffer.from(m7.context!).toString(), 'ctx');
    assert.equal(b.received[0]!.context, undefined);
    assert.equal(Buffer.from(m7.entries[0]!.data).toString(), 'v7');
    assert.equal(m7.entries[0]!.type, 'normal');
  });

  it('sends a snapshot in chunks and reports success', async () => {
    const a = await member('a');
    const b = await member('b');
    live.push(a, b);
    a.transport.addPeer('b', `127.0.0.1:${b.port}`);
    const data = Buffer.alloc(SNAPSHOT_CHUNK_BYTES * 2 + 123);
    for (let i = 0; i < data.length; i++) data[i] = i % 251;
    a.transport.send([{ ...msg('a', 'b', 9), type: 'snap', entries: [], snapshot: { metadata: { index: 900, term: 4, confState: { voters: ['a', 'b'], learners: ['c'] } }, data } }]);
    await waitUntil('the snapshot received and reported', () => b.received.length === 1 && a.snapStatus.length === 1);
    const snap = b.received[0]!.snapshot!;
    assert.deepEqual(snap.metadata, { index: 900, term: 4, confState: { voters: ['a', 'b'], learners: ['c'] } });
    assert.ok(Buffer.from(snap.data).equals(data));
    assert.deepEqual(a.snapStatus, [['b', true]]);
  });

  it('reports a peer that does not answer as unreachable and drops messages to unknown peers', async () => {
    const a = await member('a');
    live.push(a);
    a.transport.addPeer('gone', '127.0.0.1:1');
    a.transport.send([msg('a', 'gone', 1), msg('a', 'stranger', 1)]);
    await waitUntil('the dead peer reported unreachable', () => a.unreachable.includes('gone'));
    assert.ok(!a.unreachable.includes('stranger'));
  });

  it('sends on the Pipe the peer dialed to it, so a member its own dial cannot reach still gets its messages', async () => {
    const a = await member('a');
    const b = await member('b');
    live.push(a, b);
    a.transport.addPeer('b', '127.0.0.1:1'); // a's own Pipe to b never connects
    b.transport.addPeer('a', `127.0.0.1:${a.port}`);
    for (let i = 1; b.received.length === 0; i++) {
      a.transport.send([msg('a', 'b', i)]);
      await new Promise((r) => setTimeout(r, 10));
    }
    const next = b.received.at(-1)!.index + 1;
    for (let i = next; i < next + 100; i++) a.transport.send([msg('a', 'b', i)]);
    await waitUntil('the last of 100 messages received', () => b.received.at(-1)!.index === next + 99);
    assert.deepEqual(b.received.slice(-100).map((m) => m.index), Array.from({ length: 100 }, (_, i) => next + i));
  });

  it('drops messages on a dialed Pipe whose sender differs from the identity the server\'s certificate proves', async () => {
    const a = await member('a', undefined, () => 'b');
    const b = await member('b');
    live.push(a, b);
    a.transport.addPeer('b', `127.0.0.1:${b.port}`);
    b.transport.addPeer('a', '127.0.0.1:1'); // b can only answer on the Pipe a dialed
    for (let i = 1; a.received.length === 0; i++) {
      b.transport.send([msg('mallory', 'a', i), msg('b', 'a', i)]);
      await new Promise((r) => setTimeout(r, 10));
    }
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(a.received.every((m) => m.from === 'b'));
  });

  it('refuses a Pipe whose announced member differs from the identity the credentials prove', async () => {
    const a = await member('a');
    const b = await member('b', () => 'c');
    live.push(a, b);
    a.transport.addPeer('b', `127.0.0.1:${b.port}`);
    a.transport.send([msg('a', 'b', 1)]);
    await waitUntil('b reported unreachable', () => a.unreachable.includes('b'));
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(b.received, []);
  });

  it('drops messages whose sender differs from the identity the credentials prove', async () => {
    const a = await member('a');
    const b = await member('b', () => 'a');
    live.push(a, b);
    a.transport.addPeer('b', `127.0.0.1:${b.port}`);
    a.transport.send([msg('mallory', 'b', 1), msg('a', 'b', 2)]);
    await waitUntil('one message received', () => b.received.length === 1);
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(b.received.map((m) => m.from), ['a']);
  });
});
