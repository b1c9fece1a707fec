// Leader election: Raft paper §5.2 / §5.4.1, thesis §9.6 (pre-vote) and
// §6.2 / §4.2.3 (check-quorum and leases).
import assert from 'node:assert/strict';
import { MemoryStorage, newMessage, RawNode } from '../../src/index.js';
import { makeConfig, Network } from './network.js';

const storages = new WeakMap<RawNode, MemoryStorage>();

function fresh(ids: string[], id: string, o = {}): RawNode {
  const s = new MemoryStorage();
  const n = RawNode.bootstrap(makeConfig(id, s, o), ids);
  storages.set(n, s);
  return n;
}

/** Takes one Ready, persists it, marks it handled and returns it. */
function drain(n: RawNode) {
  const rd = n.ready();
  const s = storages.get(n);
  if (s) {
    s.append(rd.entries);
    if (rd.hardState) s.setHardState(rd.hardState);
  }
  n.advance(rd);
  return rd;
}

describe('raft core: election (§5.2)', () => {
  it('a follower that hears nothing for an election timeout becomes candidate, votes for itself and requests votes (§5.2)', () => {
    const n = fresh(['a', 'b', 'c'], 'a');
    drain(n);
    for (let i = 0; i < 20; i++) n.tick();
    const st = n.status();
    assert.equal(st.softState.state, 'candidate');
    assert.equal(st.hardState.term, 2);
    assert.equal(st.hardState.vote, 'a');
    const rd = drain(n);
    const votes = rd.messages.filter((m) => m.type === 'vote');
    assert.deepEqual(votes.map((m) => m.to).sort(), ['b', 'c']);
    assert.ok(votes.every((m) => m.term === 2 && m.index === 3 && m.logTerm === 1));
  });

  it('the election timeout is randomized in [electionTick, 2*electionTick) from the injected rng (§5.2)', () => {
    for (const [r, expected] of [[0, 10], [0.55, 15], [0.999, 19]] as const) {
      const cfg = { ...makeConfig('a', new MemoryStorage()), rng: () => r };
      const n = RawNode.bootstrap(cfg, ['a', 'b', 'c']);
      storages.set(n, cfg.storage as MemoryStorage);
      drain(n);
      let ticks = 0;
      while (n.status().softState.state === 'follower') {
        n.tick();
        ticks++;
      }
      assert.equal(ticks, expected);
    }
  });

  it('a candidate that receives votes from a majority becomes leader; the others follow it (§5.2)', () => {
    const net = Network.bootstrap(['a', 'b', 'c']);
    net.campaign('a');
    assert.equal(net.leader(), 'a');
    for (const id of ['b', 'c']) {
      const st = net.node(id).status();
      assert.equal(st.softState.state, 'follower');
      assert.equal(st.softState.lead, 'a');
      assert.equal(st.hardState.term, 2);
    }
  });

  it('a single-voter cluster elects itself at once and commits its no-op (§5.2)', () => {
    const net = Network.bootstrap(['solo']);
    net.campaign('solo');
    assert.equal(net.leader(), 'solo');
    net.propose('solo', 'x');
    assert.deepEqual(net.peer('solo').applied, ['x']);
  });

  it('each server votes for at most one candidate per term, first come first served (§5.2)', () => {
    const n = fresh(['a', 'b', 'c'], 'a');
    drain(n);
    n.step(newMessage('vote', { from: 'b', to: 'a', term: 5, index: 3, logTerm: 1 }));
    n.step(newMessage('vote', { from: 'c', to: 'a', term: 5, index: 3, logTerm: 1 }));
    n.step(newMessage('vote', { from: 'b', to: 'a', term: 5, index: 3, logTerm: 1 })); // retry of b
    const resps = drain(n).messages.filter((m) => m.type === 'voteResp');
    assert.deepEqual(resps.map((m) => [m.to, m.reject]), [['b', false], ['c', true], ['b', false]]);
    assert.equal(n.status().hardState.vote, 'b');
  });

  it('a voter denies its vote to a candidate whose log is less up-to-date (§5.4.1)', () => {
    const net = Network.bootstrap(['a', 'b', 'c']);
    net.campaign('a');
    net.propose('a', 'x'); // everyone has index 5 at term 2
    const b = net.node('b');
    b.step(newMessage('vote', { from: 'c', to: 'b', term: 9, index: 4, logTerm: 2 })); // shorter log
    b.step(newMessage('vote', { from: 'c', to: 'b', term: 10, index: 9, logTerm: 1 })); // older last term
    const resps = drain(b).messages.filter((m) => m.type === 'voteResp');
    assert.deepEqual(resps.map((m) => m.reject), [true, true]);
  });

  it('a candidate that receives append entries from a leader of its term steps down (§5.2)', () => {
    const n = fresh(['a', 'b', 'c'], 'a');
    drain(n);
    n.campaign();
    assert.equal(n.status().softState.state, 'candidate');
    const term = n.status().hardState.term;
    n.step(newMessage('app', { from: 'b', to: 'a', term, index: 3, logTerm: 1, commit: 3 }));
    assert.equal(n.status().softState.state, 'follower');
    assert.equal(n.status().softState.lead, 'b');
  });

  it('a candidate that a majority rejects returns to follower (§5.2)', () => {
    const n = fresh(['a', 'b', 'c'], 'a');
    drain(n);
    n.campaign();
    const term = n.status().hardState.term;
    n.step(newMessage('voteResp', { from: 'b', to: 'a', term, reject: true }));
    n.step(newMessage('voteResp', { from: 'c', to: 'a', term, reject: true }));
    assert.equal(n.status().softState.state, 'follower');
  });

  it('a server that sees a higher term steps down to follower and adopts it (§5.1)', () => {
    const net = Network.bootstrap(['a', 'b', 'c']);
    net.campaign('a');
    const a = net.node('a');
    a.step(newMessage('heartbeat', { from: 'b', to: 'a', term: 7 }));
    assert.equal(a.status().softState.state, 'follower');
    assert.equal(a.status().hardState.term, 7);
    assert.equal(a.status().softState.lead, 'b');
  });

  it('elections eventually produce one leader when everyone just ticks (§5.2 liveness)', () => {
    const net = Network.bootstrap(['a', 'b', 'c', 'd', 'e']);
    net.tick(30);
    const leaders = [...net.peers.values()].filter((p) => p.node.status().softState.state === 'leader');
    assert.equal(leaders.length, 1);
  });

  it('rejecting higher-term vote requests does not restart the election timer (§5.2, Figure 2)', () => {
    // b has the most up-to-date log; c keeps campaigning with a stale log.
    const net = Network.bootstrap(['a', 'b', 'c']);
    net.campaign('a');
    net.propose('a', 'x');
    const b = net.node('b');
    drain(b);
    let term = 10;
    let ticks = 0;
    while (b.status().softState.state === 'follower' && ticks < 40) {
      b.step(newMessage('vote', { from: 'c', to: 'b', term: term++, index: 3, logTerm: 1 }));
      drain(b);
      b.tick();
      ticks++;
    }
    assert.equal(b.status().softState.state, 'candidate', 'b must still campaign');
    assert.ok(ticks < 20, `campaigned after ${ticks} ticks`);
  });

  it('a vote request with a stale term is rejected with the current term, so the candidate catches up (§5.1)', () => {
    const net = Network.bootstrap(['a', 'b', 'c']);
    net.campaign('a');
    const b = net.node('b');
    drain(b);
    b.step(newMessage('vote', { from: 'c', to: 'b', term: 1, index: 3, logTerm: 1 }));
    const resp = drain(b).messages.find((m) => m.type === 'voteResp')!;
    assert.equal(resp.reject, true);
    assert.equal(resp.term, 2);
  });

  it('a node with committed but unapplied conf changes does not campaign', () => {
    const n = fresh(['a', 'b', 'c'], 'a');
    // First Ready not yet applied: entries 1..3 are conf changes committed but unapplied.
    n.campaign();
    assert.equal(n.status().softState.state, 'follower');
  });
});

describe('raft core: pre-vote (thesis §9.6)', () => {
  it('a partitioned node pre-campaigns without increasing its term', () => {
    const net = Network.bootstrap(['a', 'b', 'c'], { preVote: true });
    net.campaign('a');
    net.isolate('c');
    net.tick(50, ['c']);
    const st = net.node('c').status();
    assert.equal(st.softState.state, 'preCandidate');
    assert.equal(st.hardState.term, 2);
  });

  it('a node rejoining after a partition does not depose the leader', () => {
    const net = Network.bootstrap(['a', 'b', 'c'], { preVote: true });
    net.campaign('a');
    net.isolate('c');
    net.propose('a', 'x'); // c misses it; its log is behind
    net.tick(50, ['c']);
    net.heal();
    net.tick(3);
    assert.equal(net.leader(), 'a');
    assert.equal(net.node('a').status().hardState.term, 2);
    assert.equal(net.node('c').status().softState.lead, 'a');
  });

  it('a pre-candidate becomes candidate (and bumps its term) only after a pre-vote quorum', () => {
    const n = fresh(['a', 'b', 'c'], 'a', { preVote: true });
    drain(n);
    n.campaign();
    assert.equal(n.status().softState.state, 'preCandidate');
    assert.equal(n.status().hardState.term, 1);
    const pv = drain(n).messages.filter((m) => m.type === 'preVote');
    assert.ok(pv.every((m) => m.term === 2));
    n.step(newMessage('preVoteResp', { from: 'b', to: 'a', term: 2 }));
    assert.equal(n.status().softState.state, 'candidate');
    assert.equal(n.status().hardState.term, 2);
  });

  it('with pre-vote, the cluster still elects a leader when the leader fails', () => {
    const net = Network.bootstrap(['a', 'b', 'c'], { preVote: true, checkQuorum: true });
    net.campaign('a');
    net.isolate('a');
    net.tick(40, ['b', 'c']);
    const l = net.leader();
    assert.ok(l === 'b' || l === 'c', `leader ${l}`);
  });
});

describe('raft core: check-quorum and leases (thesis §6.2, §4.2.3)', () => {
  it('a leader that does not hear from a quorum within an election timeout steps down', () => {
    const net = Network.bootstrap(['a', 'b', 'c'], { checkQuorum: true });
    net.campaign('a');
    net.isolate('a');
    net.tick(21, ['a']);
    assert.equal(net.node('a').status().softState.state, 'follower');
  });

  it('a leader that hears from a quorum keeps leading', () => {
    const net = Network.bootstrap(['a', 'b', 'c'], { checkQuorum: true });
    net.campaign('a');
    net.isolate('c');
    net.tick(25, ['a']);
    assert.equal(net.leader(), 'a');
  });

  it('a follower that heard from a leader within the election timeout ignores vote requests', () => {
    const net = Network.bootstrap(['a', 'b', 'c'], { checkQuorum: true });
    net.campaign('a');
    const b = net.node('b');
    b.step(newMessage('vote', { from: 'c', to: 'b', term: 10, index: 100, logTerm: 10 }));
    assert.equal(b.status().hardState.term, 2);
    assert.equal(b.status().softState.lead, 'a');
    assert.equal(b.ready().messages.filter((m) => m.type === 'voteResp').length, 0);
  });

  it('a stale leader learns the new term from the answer to its heartbeat and steps down', () => {
    const net = Network.bootstrap(['a', 'b', 'c'], { checkQuorum: true, preVote: true });
    net.campaign('a');
    net.isolate('a');
    net.tick(40, ['b', 'c']);
    const newLeader = net.leader();
    assert.ok(newLeader && newLeader !== 'a');
    net.heal();
    net.tick(2);
    assert.equal(net.node('a').status().softState.state, 'follower');
    assert.equal(net.node('a').status().softState.lead, newLeader);
  });
});
