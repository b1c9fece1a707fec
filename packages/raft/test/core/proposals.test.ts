// Proposal forwarding and the bound on uncommitted log growth.
import assert from 'node:assert/strict';
import { ProposalDroppedError } from '../../src/index.js';
import { enc, Network } from './network.js';

describe('raft core: proposals', () => {
  it('a follower forwards proposals to the leader (§8 clients may contact any server)', () => {
    const net = Network.bootstrap(['a', 'b', 'c']);
    net.campaign('a');
    net.propose('b', 'from-b');
    net.propose('c', 'from-c');
    for (const id of ['a', 'b', 'c']) assert.deepEqual(net.peer(id).applied, ['from-b', 'from-c']);
    const fwd = net.delivered.filter((m) => m.type === 'prop');
    assert.deepEqual(fwd.map((m) => [m.from, m.to]), [['b', 'a'], ['c', 'a']]);
  });

  it('a proposal with no known leader is refused with ProposalDroppedError', () => {
    const net = Network.bootstrap(['a', 'b', 'c']);
    assert.throws(() => net.node('a').propose(enc('x')), (e: unknown) => e instanceof ProposalDroppedError && /no leader/.test(e.message));
  });

  it('a proposal on a candidate is refused', () => {
    const net = Network.bootstrap(['a', 'b', 'c']);
    net.isolate('a');
    net.campaign('a');
    assert.equal(net.node('a').status().softState.state, 'candidate');
    assert.throws(() => net.node('a').propose(enc('x')), ProposalDroppedError);
  });

  it('a leader without quorum stops accepting proposals once maxUncommittedEntriesBytes is reached', () => {
    const net = Network.bootstrap(['a', 'b', 'c'], { maxUncommittedEntriesBytes: 100 });
    net.campaign('a');
    net.isolate('b');
    net.isolate('c');
    const a = net.node('a');
    const p30 = () => a.propose(new Uint8Array(30));
    p30();
    p30();
    p30(); // 90 bytes outstanding
    assert.throws(p30, (e: unknown) => e instanceof ProposalDroppedError && /uncommitted/.test(e.message));
    net.settle();
    assert.equal(a.status().lastIndex, 7);
    net.heal();
    net.tick(2); // entries commit; the budget is released
    p30();
    p30();
    net.settle();
    assert.equal(net.peer('b').applied.length, 5);
  });

  it('a single proposal larger than the bound is still accepted when nothing is outstanding', () => {
    const net = Network.bootstrap(['a', 'b', 'c'], { maxUncommittedEntriesBytes: 10 });
    net.campaign('a');
    net.propose('a', 'x'.repeat(50));
    assert.equal(net.peer('c').applied[0].length, 50);
  });
});
