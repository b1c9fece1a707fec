// A leader's log writes run beside its loop (leaderWritesAsync): it keeps stepping proposals
// and acknowledgements while its own write is in flight, may commit through its followers,
// and applies an entry only once its own copy of it is durable.
import assert from 'node:assert/strict';
import { encodeConfChange, RaftNode, type Entry, type HardState, type Message, type NodeId } from '../../src/index.js';
import { NullStorage, RecordingTransport } from './fakes.js';
import { encodeMemberContext } from '../../src/node/snapshot-codec.js';
import { waitUntil } from '@tswarm/api';

const enc = new TextEncoder();
const dec = new TextDecoder();
const member = (index: number, nodeId: NodeId): Entry =>
  ({ index, term: 1, type: 'confChange', data: encodeConfChange({ type: 'addNode', nodeId, context: encodeMemberContext(`${nodeId}:2377`) }) });

/** Storage whose synced saves finish at once, or — while `hold` — only when the test releases them. */
class HoldingStorage extends NullStorage {
  hold = false;
  held: Array<{ lastIndex: number; release: () => void }> = [];
  override save(_hs: HardState | undefined, entries: readonly Entry[], mustSync: boolean): Promise<void> {
    if (!mustSync || !this.hold) return Promise.resolve();
    return new Promise((resolve) => this.held.push({ lastIndex: entries[entries.length - 1]?.index ?? 0, release: resolve }));
  }
}

/** Followers b and c as far as the leader can tell: they grant votes, answer heartbeats and, while `autoAck`, acknowledge appends. */
class Followers extends RecordingTransport {
  autoAck = true;
  deliver: (m: Message) => void = () => {};
  override send(messages: Message[]): void {
    super.send(messages);
    for (const m of messages) {
      const answer = this.answer(m);
      if (answer) setImmediate(() => this.deliver(answer));
    }
  }
  ack(from: NodeId, index: number, term: number): void {
    this.deliver({ type: 'appResp', from, to: 'a', term, index, logTerm: 0, entries: [], commit: 0, reject: false, rejectHint: 0 });
  }
  private answer(m: Message): Message | undefined {
    const base = { from: m.to, to: m.from, index: 0, logTerm: 0, entries: [], commit: 0, reject: false, rejectHint: 0 };
    if (m.type === 'preVote') return { ...base, type: 'preVoteResp', term: m.term };
    if (m.type === 'vote') return { ...base, type: 'voteResp', term: m.term };
    if (m.type === 'heartbeat') return { ...base, type: 'heartbeatResp', term: m.term, context: m.context };
    if (m.type === 'app' && this.autoAck) return { ...base, type: 'appResp', term: m.term, index: m.index + m.entries.length };
    return undefined;
  }
}

async function leader(leaderWritesAsync: boolean) {
  const storage = new HoldingStorage();
  const transport = new Followers();
  const applied: string[] = [];
  const node = new RaftNode({
    id: 'a', storage,
    recovered: { hardState: { term: 1, vote: '', commit: 3 }, snapshot: undefined, entries: [member(1, 'a'), member(2, 'b'), member(3, 'c')] },
    stateMachine: { apply: (_i, d) => applied.push(dec.decode(d)), snapshot: () => new Uint8Array(), restore: () => {} },
    transport: (h) => {
      transport.deliver = (m) => h.onMessage(m);
      return transport;
    },
    tickMs: 5, electionTicks: 4, rng: () => 0, leaderWritesAsync,
  });
  await node.start();
  await waitUntil('a to lead', () => node.isLeader());
  // The election's no-op (index 4) committed and applied, so proposals go straight in.
  await waitUntil('the no-op to apply', () => node.status().applied === 4);
  storage.hold = true;
  transport.autoAck = false;
  return { node, storage, transport, applied };
}

describe('raft node: the leader writes beside its loop', () => {
  it('steps proposals while its write is in flight, commits through its followers, and applies only what it holds durably', async () => {
    const { node, storage, transport, applied } = await leader(true);
    try {
      const term = node.status().term;
      const first = node.propose(enc.encode('x=1'));
      await waitUntil('the write of entry 5 to start', () => storage.held.length === 1);
      const second = node.propose(enc.encode('x=2'));
      await waitUntil('the write of entry 6 to start while 5 is in flight', () => storage.held.length === 2);
      assert.deepEqual(storage.held.map((h) => h.lastIndex), [5, 6]);

      transport.ack('b', 6, term);
      transport.ack('c', 6, term);
      await waitUntil('b and c to learn that 6 is committed', () => transport.sent.some((m) => m.type === 'app' && m.to === 'b' && m.commit === 6));
      assert.equal(node.status().commit, 6);
      assert.deepEqual(applied, [], 'nothing is applied before the leader holds it durably');

      storage.held[0]!.release();
      assert.equal(await first, 5);
      assert.deepEqual(applied, ['x=1'], 'entry 6 waits for its own write');

      storage.held[1]!.release();
      assert.equal(await second, 6);
      assert.deepEqual(applied, ['x=1', 'x=2']);
    } finally {
      node.stop();
    }
  });

  it('counts its own durable copy toward the quorum: one follower and itself commit', async () => {
    const { node, storage, transport, applied } = await leader(true);
    try {
      const term = node.status().term;
      const p = node.propose(enc.encode('y=1'));
      await waitUntil('the write of entry 5 to start', () => storage.held.length === 1);
      transport.ack('b', 5, term);
      await new Promise((r) => setTimeout(r, 30));
      assert.equal(node.status().commit, 4, 'one follower alone is not a quorum of three');
      storage.held[0]!.release();
      assert.equal(await p, 5);
      assert.deepEqual(applied, ['y=1']);
    } finally {
      node.stop();
    }
  });

  it('without leaderWritesAsync, holds everything else until its write is done', async () => {
    const { node, storage } = await leader(false);
    try {
      const first = node.propose(enc.encode('x=1'));
      await waitUntil('the write of entry 5 to start', () => storage.held.length === 1);
      void node.propose(enc.encode('x=2'));
      await new Promise((r) => setTimeout(r, 30));
      assert.equal(storage.held.length, 1, 'the second proposal waits for the first write');
      storage.held[0]!.release();
      await waitUntil('the write of entry 6 to start', () => storage.held.length === 2);
      storage.held[1]!.release();
      void first;
    } finally {
      node.stop();
    }
  });
});
