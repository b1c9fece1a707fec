// ReadIndex linearizable reads (thesis §6.4).
import assert from 'node:assert/strict';
import { ProposalDroppedError } from '../../src/index.js';
import { dec, enc, Network } from './network.js';

describe('raft core: ReadIndex (thesis §6.4)', () => {
  it('the leader answers a read after a heartbeat round confirms its leadership', () => {
    const net = Network.bootstrap(['a', 'b', 'c']);
    net.campaign('a');
    net.propose('a', 'x');
    const commit = net.node('a').status().hardState.commit;
    const before = net.delivered.length;
    net.node('a').readIndex(enc('r1'));
    net.settle();
    const rs = net.peer('a').readStates;
    assert.equal(rs.length, 1);
    assert.equal(rs[0].index, commit);
    assert.equal(dec(rs[0].requestCtx), 'r1');
    const hbs = net.delivered.slice(before).filter((m) => m.type === 'heartbeat');
    assert.ok(hbs.length >= 1 && hbs.every((m) => dec(m.context!) === 'r1'));
  });

  it('a leader cut off from the quorum does not answer reads', () => {
    const net = Network.bootstrap(['a', 'b', 'c']);
    net.campaign('a');
    net.isolate('b');
    net.isolate('c');
    net.node('a').readIndex(enc('r1'));
    net.tick(3, ['a']);
    assert.equal(net.peer('a').readStates.length, 0);
  });

  it('a follower forwards the read to the leader and gets the read state back', () => {
    const net = Network.bootstrap(['a', 'b', 'c']);
    net.campaign('a');
    net.propose('a', 'x');
    net.node('b').readIndex(enc('rb'));
    net.settle();
    const rs = net.peer('b').readStates;
    assert.equal(rs.length, 1);
    assert.equal(rs[0].index, net.node('a').status().hardState.commit);
    assert.equal(dec(rs[0].requestCtx), 'rb');
    assert.equal(net.peer('a').readStates.length, 0);
  });

  it('a new leader holds reads until an entry of its own term is committed', () => {
    const net = Network.bootstrap(['a', 'b', 'c']);
    let holdAcks = true;
    net.filter = (m) => !(holdAcks && m.type === 'appResp');
    net.campaign('a'); // no-op not committed: its acks are held
    net.node('a').readIndex(enc('early'));
    net.settle();
    assert.equal(net.peer('a').readStates.length, 0);
    holdAcks = false;
    net.tick(2);
    const rs = net.peer('a').readStates;
    assert.equal(rs.length, 1);
    assert.ok(rs[0].index >= 4, `read index ${rs[0].index} must cover the no-op`);
  });

  it('several pending reads are all answered by one confirming round', () => {
    const net = Network.bootstrap(['a', 'b', 'c']);
    net.campaign('a');
    const a = net.node('a');
    a.readIndex(enc('r1'));
    a.readIndex(enc('r2'));
    a.readIndex(enc('r3'));
    net.settle();
    assert.deepEqual(net.peer('a').readStates.map((r) => dec(r.requestCtx)), ['r1', 'r2', 'r3']);
  });

  it('a single-voter leader answers at once', () => {
    const net = Network.bootstrap(['solo']);
    net.campaign('solo');
    net.node('solo').readIndex(enc('r'));
    assert.equal(net.node('solo').ready().readStates.length, 1);
  });

  it('a read without a known leader is refused', () => {
    const net = Network.bootstrap(['a', 'b', 'c']);
    assert.throws(() => net.node('b').readIndex(enc('r')), ProposalDroppedError);
  });
});
