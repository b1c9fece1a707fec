// Log replication: Raft paper §5.3 and §5.4.2, thesis §10.2 (batching and
// pipelining) and etcd-style flow control.
import assert from 'node:assert/strict';
import { Entry, MemoryStorage, newMessage, RawNode } from '../../src/index.js';
import { dec, enc, makeConfig, Network } from './network.js';

const ent = (index: number, term: number, data = ''): Entry => ({ index, term, type: 'normal', data: enc(data) });

/** A node restarted from storage holding `ents` at `term`, member of a,b,c. */
function nodeWithLog(id: string, ents: Entry[], term: number, commit = 0) {
  const s = new MemoryStorage();
  s.append(ents);
  s.setHardState({ term, vote: '', commit });
  s.setConfState({ voters: ['a', 'b', 'c'], learners: [] });
  return { node: new RawNode(makeConfig(id, s)), storage: s };
}

describe('raft core: replication (§5.3)', () => {
  it('the leader replicates a proposal and commits it once a majority stores it; all apply it in order (§5.3)', () => {
    const net = Network.bootstrap(['a', 'b', 'c']);
    net.campaign('a');
    for (const x of ['x', 'y', 'z']) net.propose('a', x);
    for (const id of ['a', 'b', 'c']) {
      assert.deepEqual(net.peer(id).applied, ['x', 'y', 'z']);
      assert.equal(net.node(id).status().hardState.commit, 7); // 3 conf + no-op + 3
    }
  });

  it('an entry is committed when a majority stores it, even if a minority is down (§5.3)', () => {
    const net = Network.bootstrap(['a', 'b', 'c', 'd', 'e']);
    net.campaign('a');
    net.isolate('d');
    net.isolate('e');
    net.propose('a', 'x');
    assert.deepEqual(net.peer('a').applied, ['x']);
    assert.deepEqual(net.peer('d').applied, []);
  });

  it('without a majority nothing commits (§5.3)', () => {
    const net = Network.bootstrap(['a', 'b', 'c']);
    net.campaign('a');
    net.isolate('b');
    net.isolate('c');
    net.propose('a', 'x');
    assert.deepEqual(net.peer('a').applied, []);
    net.heal();
    net.tick(2);
    assert.deepEqual(net.peer('a').applied, ['x']);
    assert.deepEqual(net.peer('c').applied, ['x']);
  });

  it('a follower rejects an append whose previous entry does not match, with a hint (§5.3)', () => {
    const { node } = nodeWithLog('b', [ent(1, 1), ent(2, 1)], 2);
    node.step(newMessage('app', { from: 'a', to: 'b', term: 3, index: 5, logTerm: 3, entries: [ent(6, 3)] }));
    const resp = node.ready().messages.find((m) => m.type === 'appResp')!;
    assert.equal(resp.reject, true);
    assert.equal(resp.index, 5);
    assert.equal(resp.rejectHint, 2); // our last index
    assert.equal(resp.logTerm, 1);
  });

  it('a follower overwrites conflicting uncommitted entries with the leader\'s (§5.3 log matching)', () => {
    const net = Network.bootstrap(['a', 'b', 'c']);
    net.campaign('a');
    // a appends x (term 2) but it reaches nobody.
    net.isolate('a');
    net.propose('a', 'x');
    net.heal();
    net.isolate('a');
    net.campaign('b'); // term 3, wins with c
    net.propose('b', 'y');
    net.heal();
    net.tick(2);
    for (const id of ['a', 'b', 'c']) assert.deepEqual(net.peer(id).applied, ['y'], id);
    const s = (id: string) => net.peer(id).storage;
    const last = s('b').lastIndex();
    assert.equal(s('a').lastIndex(), last);
    assert.deepEqual(s('a').entries(1, last + 1, Infinity).map((e) => e.term), s('b').entries(1, last + 1, Infinity).map((e) => e.term));
  });

  it('a leader backs off a lagging follower to the point where the logs match (§5.3)', () => {
    const net = Network.bootstrap(['a', 'b', 'c']);
    net.campaign('a');
    net.isolate('c');
    for (let i = 0; i < 20; i++) net.propose('a', `v${i}`);
    net.heal();
    net.tick(2);
    assert.equal(net.peer('c').applied.length, 20);
  });
});

describe('raft core: commitment rules (§5.4.2)', () => {
  it('a leader does not commit an entry of an older term by counting replicas; it commits it with one of its own term (§5.4.2, Figure 8)', () => {
    // a and b hold entries 1 (term 1) and 2 (term 2), uncommitted.
    const { node: a } = nodeWithLog('a', [ent(1, 1), ent(2, 2, 'old')], 2);
    a.campaign(); // term 3
    a.step(newMessage('voteResp', { from: 'b', to: 'a', term: 3 }));
    assert.equal(a.status().softState.state, 'leader');
    // The leader appended its no-op at index 3 (term 3). b acks index 2 only.
    a.step(newMessage('appResp', { from: 'b', to: 'a', term: 3, index: 2 }));
    assert.equal(a.status().hardState.commit, 0, 'entry 2 (term 2) must not be committed by counting');
    a.step(newMessage('appResp', { from: 'b', to: 'a', term: 3, index: 3 }));
    assert.equal(a.status().hardState.commit, 3, 'committing the no-op commits entry 2 indirectly');
  });

  it('a follower only commits up to the leader\'s commit index and its own last new entry (§5.3)', () => {
    const { node: b } = nodeWithLog('b', [ent(1, 1)], 1);
    b.step(newMessage('app', { from: 'a', to: 'b', term: 2, index: 1, logTerm: 1, entries: [ent(2, 2, 'p')], commit: 5 }));
    assert.equal(b.status().hardState.commit, 2);
  });
});

describe('raft core: batching, pipelining and flow control (thesis §10.2)', () => {
  it('proposals made between two Ready calls go to each follower in one append message', () => {
    const net = Network.bootstrap(['a', 'b', 'c']);
    net.campaign('a');
    const a = net.node('a');
    for (let i = 0; i < 10; i++) a.propose(enc(`p${i}`));
    const rd = a.ready();
    const apps = rd.messages.filter((m) => m.type === 'app');
    assert.equal(apps.length, 2);
    assert.ok(apps.every((m) => m.entries.length === 10));
  });

  it('an append message carries at most maxSizePerMsgBytes of entries (but at least one entry)', () => {
    const net = Network.bootstrap(['a', 'b', 'c'], { maxSizePerMsgBytes: 100 });
    net.campaign('a');
    net.isolate('c');
    for (let i = 0; i < 10; i++) net.propose('a', 'x'.repeat(30)); // ~46 bytes each with overhead
    net.heal();
    const before = net.delivered.length;
    net.tick(3);
    const apps = net.delivered.slice(before).filter((m) => m.type === 'app' && m.to === 'c' && m.entries.length > 0);
    assert.ok(apps.length >= 5, `apps ${apps.length}`);
    assert.ok(apps.every((m) => m.entries.length <= 2));
    assert.equal(net.peer('c').applied.length, 10);
    const big = Network.bootstrap(['a', 'b'], { maxSizePerMsgBytes: 10 });
    big.campaign('a');
    big.propose('a', 'y'.repeat(500)); // larger than the limit: still sent alone
    assert.deepEqual(big.peer('b').applied, ['y'.repeat(500)]);
  });

  it('a follower in replicate state has at most maxInflightMsgs appends outstanding (pipelining)', () => {
    const net = Network.bootstrap(['a', 'b', 'c'], { maxInflightMsgs: 3 });
    net.campaign('a');
    net.propose('a', 'warmup'); // b and c are now in replicate state
    assert.equal(net.node('a').status().progress!.b.state, 'replicate');
    let sentToB = 0;
    net.filter = (m) => {
      if (m.to === 'b' && m.type === 'app' && m.entries.length > 0) sentToB++;
      return !(m.from === 'b' && m.type === 'appResp'); // acks are lost
    };
    for (let i = 0; i < 10; i++) net.propose('a', `p${i}`);
    assert.equal(sentToB, 3);
    const pb = net.node('a').status().progress!.b;
    assert.equal(pb.inflight, 3);
    assert.equal(pb.paused, true);
    // c kept everything committed.
    assert.equal(net.peer('c').applied.length, 11);
  });

  it('a follower in probe state gets one append at a time until it answers (§5.3 probing)', () => {
    const net = Network.bootstrap(['a', 'b', 'c']);
    let toC = 0;
    net.filter = (m) => {
      if (m.to === 'c' && m.type === 'app') {
        toC++;
        return false;
      }
      return true;
    };
    net.campaign('a');
    for (let i = 0; i < 5; i++) net.propose('a', `p${i}`);
    assert.equal(toC, 1);
    assert.equal(net.node('a').status().progress!.c.state, 'probe');
    net.filter = undefined;
    net.tick(2); // heartbeat answer unpauses the probe
    assert.equal(net.peer('c').applied.length, 5);
    assert.equal(net.node('a').status().progress!.c.state, 'replicate');
  });

  it('a lost append in replicate state is recovered after heartbeats', () => {
    const net = Network.bootstrap(['a', 'b', 'c'], { maxInflightMsgs: 2 });
    net.campaign('a');
    net.propose('a', 'warmup');
    let drop = true;
    net.filter = (m) => !(drop && m.to === 'b' && m.type === 'app' && m.entries.length > 0);
    for (let i = 0; i < 5; i++) net.propose('a', `p${i}`);
    drop = false;
    net.tick(5);
    assert.deepEqual(net.peer('b').applied, ['warmup', 'p0', 'p1', 'p2', 'p3', 'p4']);
    assert.equal(dec(net.peer('b').storage.entries(10, 11, Infinity)[0].data), 'p4');
  });

  it('the commit index reaches followers in commit-only appends they do not answer when the leader holds their ack', () => {
    const net = Network.bootstrap(['a', 'b', 'c']);
    net.campaign('a');
    net.propose('a', 'warmup'); // b and c are now in replicate state
    const before = net.delivered.length;
    net.propose('a', 'x');
    const sent = net.delivered.slice(before);
    const commitOnly = sent.filter((m) => m.commitOnly);
    assert.deepEqual(commitOnly.map((m) => [m.type, m.from, m.to, m.entries.length]), [['app', 'a', 'b', 0], ['app', 'a', 'c', 0]]);
    // One answer per follower: for the entry, none for the commit-only append.
    assert.deepEqual(sent.filter((m) => m.type === 'appResp').map((m) => m.from).sort(), ['b', 'c']);
    for (const id of ['a', 'b', 'c']) assert.deepEqual(net.peer(id).applied, ['warmup', 'x'], id);
  });

  it('a follower answers a commit-only append it rejects', () => {
    const { node } = nodeWithLog('b', [ent(1, 1), ent(2, 1)], 2);
    node.step(newMessage('app', { from: 'a', to: 'b', term: 2, index: 4, logTerm: 2, commit: 4, commitOnly: true }));
    const resp = node.ready().messages.find((m) => m.type === 'appResp')!;
    assert.equal(resp.reject, true);
    assert.equal(resp.rejectHint, 2);
  });

  it('a leader whose ack from a follower was lost learns the follower\'s progress from the append a heartbeat answer triggers', () => {
    const net = Network.bootstrap(['a', 'b', 'c']);
    net.campaign('a');
    net.propose('a', 'warmup');
    net.filter = (m) => !(m.from === 'b' && m.type === 'appResp'); // b's acks are lost
    net.propose('a', 'x');
    const last = net.node('a').status().lastIndex;
    assert.ok(net.node('a').status().progress!.b.match < last);
    net.filter = undefined;
    net.tick(1);
    assert.equal(net.node('a').status().progress!.b.match, last);
  });

  it('the transport reporting a follower unreachable moves it from replicate to probe', () => {
    const net = Network.bootstrap(['a', 'b', 'c']);
    net.campaign('a');
    net.propose('a', 'x');
    net.node('a').reportUnreachable('b');
    assert.equal(net.node('a').status().progress!.b.state, 'probe');
  });
});
