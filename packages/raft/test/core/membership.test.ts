// Membership changes one server at a time (thesis §4.1), learners (thesis
// §4.2.1), removed servers (thesis §4.2.3).
import assert from 'node:assert/strict';
import { ProposalDroppedError } from '../../src/index.js';
import { Network } from './network.js';

function cluster(ids = ['a', 'b', 'c'], opts = {}) {
  const net = Network.bootstrap(ids, opts);
  net.campaign(ids[0]);
  return net;
}

describe('raft core: membership changes (thesis §4.1)', () => {
  it('a learner added with addLearner receives the log but is not a voter (thesis §4.2.1)', () => {
    const net = cluster();
    net.propose('a', 'before');
    net.addEmpty('d');
    net.node('a').proposeConfChange({ type: 'addLearner', nodeId: 'd' });
    net.settle();
    net.propose('a', 'after');
    assert.deepEqual(net.peer('d').applied, ['before', 'after']);
    for (const id of ['a', 'b', 'c', 'd']) {
      assert.deepEqual(net.peer(id).confState, { voters: ['a', 'b', 'c'], learners: ['d'] }, id);
    }
    assert.equal(net.node('a').status().progress!.d.isLearner, true);
  });

  it('a learner does not count for the commit quorum and never campaigns (thesis §4.2.1)', () => {
    const net = cluster();
    net.addEmpty('d');
    net.node('a').proposeConfChange({ type: 'addLearner', nodeId: 'd' });
    net.settle();
    net.isolate('b');
    net.isolate('c');
    net.propose('a', 'x'); // a + learner d store it: not a quorum of voters
    assert.deepEqual(net.peer('a').applied, []);
    assert.equal(net.node('d').status().lastIndex, net.node('a').status().lastIndex);
    net.isolate('a');
    net.tick(100, ['d']);
    assert.equal(net.node('d').status().softState.state, 'follower');
  });

  it('addNode on a learner promotes it; it then counts for quorum', () => {
    const net = cluster();
    net.addEmpty('d');
    net.node('a').proposeConfChange({ type: 'addLearner', nodeId: 'd' });
    net.settle();
    net.node('a').proposeConfChange({ type: 'addNode', nodeId: 'd' });
    net.settle();
    assert.deepEqual(net.peer('a').confState, { voters: ['a', 'b', 'c', 'd'], learners: [] });
    net.isolate('b');
    net.isolate('c');
    net.propose('a', 'x'); // 2 of 4 is not a majority
    assert.deepEqual(net.peer('a').applied, []);
    net.heal();
    net.isolate('c');
    net.tick(2); // a, b, d: 3 of 4
    assert.deepEqual(net.peer('a').applied, ['x']);
  });

  it('removeNode shrinks the quorum; the cluster commits without the removed node', () => {
    const net = cluster();
    net.node('a').proposeConfChange({ type: 'removeNode', nodeId: 'c' });
    net.settle();
    assert.deepEqual(net.peer('a').confState, { voters: ['a', 'b'], learners: [] });
    assert.equal(net.node('a').status().progress!.c, undefined);
    net.isolate('c');
    net.propose('a', 'x');
    assert.deepEqual(net.peer('b').applied, ['x']);
  });

  it('only one conf change may be pending (unapplied) at a time (thesis §4.1)', () => {
    const net = cluster();
    const a = net.node('a');
    a.proposeConfChange({ type: 'addLearner', nodeId: 'd' });
    assert.throws(() => a.proposeConfChange({ type: 'addLearner', nodeId: 'e' }), ProposalDroppedError);
    net.settle();
    a.proposeConfChange({ type: 'addLearner', nodeId: 'e' }); // fine once the first is applied
    net.settle();
    assert.deepEqual(net.peer('a').confState.learners, ['d', 'e']);
  });

  it('a new leader refuses conf changes until its election no-op is committed and applied (thesis §4.1 safety fix)', () => {
    const net = Network.bootstrap(['solo']);
    const n = net.node('solo');
    n.campaign(); // leader at once; no-op committed but not yet applied
    assert.throws(() => n.proposeConfChange({ type: 'addLearner', nodeId: 'x' }), /unapplied conf change/);
    net.settle();
    n.proposeConfChange({ type: 'addLearner', nodeId: 'x' });
  });

  it('a refused conf change forwarded by a follower becomes a no-op', () => {
    const net = cluster();
    net.node('a').proposeConfChange({ type: 'addLearner', nodeId: 'd' }); // pending, not applied
    net.node('b').proposeConfChange({ type: 'addLearner', nodeId: 'e' });
    net.settle();
    assert.deepEqual(net.peer('a').confState.learners, ['d']);
  });

  it('a leader that removes itself steps down and the remaining voters elect a new leader', () => {
    const net = cluster();
    net.node('a').proposeConfChange({ type: 'removeNode', nodeId: 'a' });
    net.settle();
    assert.equal(net.node('a').status().softState.state, 'follower');
    net.isolate('a');
    net.tick(30, ['b', 'c']);
    const l = net.leader();
    assert.ok(l === 'b' || l === 'c', `leader ${l}`);
    net.propose(l!, 'x');
    assert.deepEqual(net.peer('b').applied, ['x']);
  });

  it('a voter that was not yet told of its removal cannot disrupt the cluster (thesis §4.2.3, pre-vote)', () => {
    const net = cluster(['a', 'b', 'c'], { preVote: true, checkQuorum: true });
    net.isolate('c');
    net.node('a').proposeConfChange({ type: 'removeNode', nodeId: 'c' });
    net.settle();
    net.heal();
    net.tick(60); // c hears nothing from the leader and keeps trying
    assert.equal(net.leader(), 'a');
    assert.equal(net.node('a').status().hardState.term, 2);
    assert.equal(net.node('b').status().hardState.term, 2);
  });

  it('a removed voter without pre-vote raises its own term but the lease makes the others ignore it (thesis §4.2.3)', () => {
    const net = cluster(['a', 'b', 'c'], { checkQuorum: true });
    net.isolate('c');
    net.node('a').proposeConfChange({ type: 'removeNode', nodeId: 'c' });
    net.settle();
    net.heal();
    net.tick(60);
    assert.ok(net.node('c').status().hardState.term > 2);
    assert.equal(net.leader(), 'a');
    assert.equal(net.node('a').status().hardState.term, 2);
  });
});
