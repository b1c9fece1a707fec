// The node loop applies committed entries it already holds while the next write is in
// flight (etcd's apply loop runs beside its WAL writes), and sends a follower's forwarded
// proposals before it, but acknowledges only what is durable.
import assert from 'node:assert/strict';
import { ALREADY_DURABLE, encodeConfChange, RaftNode, type Entry, type Message, type NodeId, type RaftStorage } from '../../src/index.js';
import { NullStorage, RecordingTransport } from './fakes.js';
import { encodeMemberContext } from '../../src/node/snapshot-codec.js';
import { waitUntil } from '@tswarm/api';

const enc = new TextEncoder();
const dec = new TextDecoder();
const member = (index: number, nodeId: NodeId): Entry =>
  ({ index, term: 1, type: 'confChange', data: encodeConfChange({ type: 'addNode', nodeId, context: encodeMemberContext(`${nodeId}:2377`) }) });
const put = (index: number, text: string): Entry => ({ index, term: 2, type: 'normal', data: enc.encode(text) });

/** Storage whose synced writes finish only when the test releases them. */
class GatedStorage extends NullStorage {
  pending: Array<() => void> = [];
  /** Whether each synced write was asked to be made inline. */
  inline: boolean[] = [];
  override save(_hs: unknown, _entries: readonly Entry[], mustSync: boolean, opts?: { inline?: boolean }): Promise<void> {
    if (!mustSync) return Promise.resolve();
    this.inline.push(!!opts?.inline);
    return new Promise((resolve) => this.pending.push(resolve));
  }
}

/** Storage that writes every synced save inline (as DiskRaftStorage does a small one). */
class InlineStorage extends NullStorage {
  override save(_hs: unknown, _entries: readonly Entry[], mustSync: boolean): Promise<void> {
    return mustSync ? ALREADY_DURABLE : Promise.resolve();
  }
}

/**
 * Member b, following a: entry 4 is durable here but not yet known to be committed (commit 3).
 * `appendAndCommit` delivers a's append of entry 5, which says entry 4 is committed.
 */
async function follower(storage: RaftStorage, apply: (data: string) => void) {
  const transport = new RecordingTransport();
  let handlers!: { onMessage(m: Message): void };
  const node = new RaftNode({
    id: 'b', storage,
    recovered: { hardState: { term: 2, vote: 'a', commit: 3 }, snapshot: undefined, entries: [member(1, 'a'), member(2, 'b'), member(3, 'c'), put(4, 'x=1')] },
    stateMachine: { apply: (_i, d) => apply(dec.decode(d)), snapshot: () => new Uint8Array(), restore: () => {} },
    transport: (h) => {
      handlers = h;
      return transport;
    },
    tickMs: 1000, rng: () => 0.5,
  });
  await node.start();
  const appendAndCommit = () =>
    handlers.onMessage({ type: 'app', from: 'a', to: 'b', term: 2, index: 4, logTerm: 2, entries: [put(5, 'x=2')], commit: 4, reject: false, rejectHint: 0 });
  const appendNext = () =>
    handlers.onMessage({ type: 'app', from: 'a', to: 'b', term: 2, index: 5, logTerm: 2, entries: [put(6, 'x=3')], commit: 4, reject: false, rejectHint: 0 });
  const answered = () => transport.sent.some((m) => m.type === 'appResp' && m.index === 5);
  return { node, transport, appendAndCommit, appendNext, answered };
}

describe('raft node: applying beside the write', () => {
  it('a follower applies a committed entry it holds while the next entry is being written, and answers after the write', async () => {
    const storage = new GatedStorage();
    const applied: string[] = [];
    const f = await follower(storage, (d) => applied.push(d));
    try {
      f.appendAndCommit();
      await waitUntil('the write of entry 5 to start', () => storage.pending.length === 1);
      await waitUntil('entry 4 to be applied during the write', () => applied.includes('x=1'));
      assert.deepEqual(f.transport.sent.filter((m) => m.type === 'appResp'), [], 'no answer before entry 5 is durable');
      storage.pending.shift()!();
      await waitUntil('the answer for entry 5', f.answered);
      assert.deepEqual(applied, ['x=1']);
    } finally {
      f.node.stop();
    }
  });

  it('a follower forwards a proposal before its write is done, which it then makes off the event loop; its answer waits for the write', async () => {
    const storage = new GatedStorage();
    const f = await follower(storage, () => {});
    try {
      f.appendAndCommit();
      await waitUntil('the write of entry 5 to start', () => storage.pending.length === 1);
      // Arriving during that write: the next append and a client's proposal; both wait for the next Ready.
      f.appendNext();
      void f.node.propose(enc.encode('y=1')).catch(() => {});
      storage.pending.shift()!();
      await waitUntil('the write of entry 6 to start', () => storage.pending.length === 1);
      assert.ok(f.transport.sent.some((m) => m.type === 'prop' && m.to === 'a'), 'the proposal went to the leader before the write of entry 6 was done');
      assert.ok(!f.transport.sent.some((m) => m.type === 'appResp' && m.index === 6), 'no answer for entry 6 before it is durable');
      assert.deepEqual(storage.inline, [true, false], 'a write with a forward out is not made inline: the loop must flush the forward');
      storage.pending.shift()!();
      await waitUntil('the answer for entry 6', () => f.transport.sent.some((m) => m.type === 'appResp' && m.index === 6));
    } finally {
      f.node.stop();
    }
  });

  it('a follower whose write was done inline answers first, then applies', async () => {
    const answeredBeforeApply: boolean[] = [];
    const f = await follower(new InlineStorage(), () => answeredBeforeApply.push(f.answered()));
    try {
      f.appendAndCommit();
      await waitUntil('entry 4 to be applied', () => answeredBeforeApply.length === 1);
      assert.deepEqual(answeredBeforeApply, [true]);
    } finally {
      f.node.stop();
    }
  });
});
