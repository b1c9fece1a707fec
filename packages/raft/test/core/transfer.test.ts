// Leadership transfer (thesis §3.10).
import assert from 'node:assert/strict';
import { ProposalDroppedError } from '../../src/index.js';
import { Network } from './network.js';

function cluster(opts = {}) {
  const net = Network.bootstrap(['a', 'b', 'c'], opts);
  net.campaign('a');
  return net;
}

describe('raft core: leadership transfer (thesis §3.10)', () => {
  it('transfers leadership to an up-to-date follower via timeoutNow', () => {
    const net = cluster();
    net.node('a').transferLeadership('b');
    net.settle();
    assert.equal(net.leader(), 'b');
    assert.equal(net.node('b').status().hardState.term, 3);
    assert.equal(net.node('a').status().softState.lead, 'b');
  });

  it('brings a lagging transferee up to date first, then sends timeoutNow', () => {
    const net = cluster();
    net.isolate('c');
    for (let i = 0; i < 5; i++) net.propose('a', `v${i}`);
    net.heal();
    net.node('a').transferLeadership('c');
    net.settle();
    assert.equal(net.leader(), 'c');
    assert.equal(net.peer('c').applied.length, 5);
  });

  it('works despite check-quorum leases: transfer votes are not ignored', () => {
    const net = cluster({ checkQuorum: true, preVote: true });
    net.node('a').transferLeadership('c');
    net.settle();
    assert.equal(net.leader(), 'c');
  });

  it('the leader refuses proposals while a transfer is in progress', () => {
    const net = cluster();
    net.isolate('c');
    net.propose('a', 'x');
    net.node('a').transferLeadership('c'); // c unreachable: transfer stays pending
    net.settle();
    assert.equal(net.node('a').status().leadTransferee, 'c');
    assert.throws(() => net.node('a').propose(new Uint8Array([1])), (e: unknown) => e instanceof ProposalDroppedError && /transfer/.test(e.message));
  });

  it('aborts a transfer that did not finish within an election timeout', () => {
    const net = cluster();
    net.isolate('c');
    net.node('a').transferLeadership('c');
    net.settle();
    net.tick(10, ['a']);
    assert.equal(net.node('a').status().leadTransferee, '');
    assert.equal(net.leader(), 'a');
    net.propose('a', 'ok');
    assert.deepEqual(net.peer('b').applied, ['ok']);
  });

  it('ignores a transfer to a learner or to itself', () => {
    const net = cluster();
    net.addEmpty('d');
    net.node('a').proposeConfChange({ type: 'addLearner', nodeId: 'd' });
    net.settle();
    net.node('a').transferLeadership('d');
    net.node('a').transferLeadership('a');
    net.settle();
    assert.equal(net.leader(), 'a');
    assert.equal(net.node('a').status().leadTransferee, '');
  });

  it('a transfer requested on a follower is forwarded to the leader', () => {
    const net = cluster();
    net.node('b').transferLeadership('b');
    net.settle();
    assert.equal(net.leader(), 'b');
  });
});
