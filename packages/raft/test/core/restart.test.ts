// Restart from storage (§5: persistent state is currentTerm, votedFor, log[]).
import assert from 'node:assert/strict';
import { MemoryStorage, newMessage, RawNode } from '../../src/index.js';
import { makeConfig, Network } from './network.js';

describe('raft core: restart from storage', () => {
  it('a restarted node keeps its term, vote, log and commit (§5.1 persistent state)', () => {
    const net = Network.bootstrap(['a', 'b', 'c']);
    net.campaign('a');
    net.propose('a', 'x');
    const before = net.node('b').status();
    net.restart('b');
    const after = net.node('b').status();
    assert.equal(after.hardState.term, before.hardState.term);
    assert.equal(after.hardState.vote, before.hardState.vote);
    assert.equal(after.lastIndex, before.lastIndex);
    assert.equal(after.softState.state, 'follower');
    // It replays the committed log to the host.
    net.settle();
    assert.deepEqual(net.peer('b').applied, ['x']);
    assert.deepEqual(net.peer('b').confState.voters, ['a', 'b', 'c']);
  });

  it('a restarted node will not vote twice in the same term (§5.2)', () => {
    const s = new MemoryStorage();
    s.setConfState({ voters: ['a', 'b', 'c'], learners: [] });
    s.setHardState({ term: 5, vote: 'a', commit: 0 });
    const n = new RawNode(makeConfig('b', s));
    n.step(newMessage('vote', { from: 'c', to: 'b', term: 5, index: 0, logTerm: 0 }));
    const resp = n.ready().messages.find((m) => m.type === 'voteResp')!;
    assert.equal(resp.reject, true);
  });

  it('a whole cluster restarted from storage keeps its committed entries and elects a leader', () => {
    const net = Network.bootstrap(['a', 'b', 'c']);
    net.campaign('a');
    for (let i = 0; i < 3; i++) net.propose('a', `v${i}`);
    net.compact('b');
    for (const id of ['a', 'b', 'c']) net.restart(id);
    net.settle();
    net.tick(30);
    const l = net.leader();
    assert.ok(l);
    net.propose(l, 'after');
    for (const id of ['a', 'b', 'c']) assert.deepEqual(net.peer(id).applied, ['v0', 'v1', 'v2', 'after'], id);
  });

  it('a node restarted from a snapshot starts applying after the snapshot index', () => {
    const net = Network.bootstrap(['a', 'b', 'c']);
    net.campaign('a');
    net.propose('a', 'x');
    net.compact('c');
    net.restart('c');
    assert.equal(net.node('c').status().applied, 5);
    net.propose('a', 'y');
    assert.deepEqual(net.peer('c').applied, ['x', 'y']);
  });

  it('bootstrap refuses non-empty storage', () => {
    const s = new MemoryStorage();
    s.append([{ term: 1, index: 1, type: 'normal', data: new Uint8Array(0) }]);
    assert.throws(() => RawNode.bootstrap(makeConfig('a', s), ['a']), /not empty/);
  });
});
