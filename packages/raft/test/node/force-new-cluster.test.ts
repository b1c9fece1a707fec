// Forcing a new cluster (etcd's --force-new-cluster, swarmkit's `swarm init
// --force-new-cluster`): one member of a group that lost quorum restarts from its own log
// as the only voter, keeping everything it applied, and stays that way across restarts.
import assert from 'node:assert/strict';
import {
  decodeConfChange, encodeConfChange, forceNewCluster, ForceNewClusterError, lastConfState, MemoryDisk, RaftNode,
  type Entry, type HardState, type Message, type NodeId, type Transport,
} from '../../src/index.js';
import { encodeMemberContext } from '../../src/node/snapshot-codec.js';
import { waitUntil } from '@tswarm/api';

const enc = new TextEncoder();
const dec = new TextDecoder();

const addr = (id: NodeId) => encodeMemberContext(`${id}:2377`);
const conf = (index: number, term: number, type: 'addNode' | 'addLearner' | 'removeNode', nodeId: NodeId): Entry =>
  ({ index, term, type: 'confChange', data: encodeConfChange({ type, nodeId, context: type === 'removeNode' ? undefined : addr(nodeId) }) });
const put = (index: number, term: number, text: string): Entry => ({ index, term, type: 'normal', data: enc.encode(text) });

/** A three-voter group's log as member `a` holds it: 1–3 bootstrap, 4–5 writes, commit 4. */
function threeVoterLog(): { hardState: HardState; entries: Entry[] } {
  return {
    hardState: { term: 3, vote: 'b', commit: 4 },
    entries: [conf(1, 1, 'addNode', 'a'), conf(2, 1, 'addNode', 'b'), conf(3, 1, 'addNode', 'c'), put(4, 2, 'x=1'), put(5, 2, 'x=2')],
  };
}

class FakeTransport implements Transport {
  readonly peers = new Set<NodeId>();
  sent: Message[] = [];
  send(messages: Message[]): void {
    this.sent.push(...messages);
  }
  addPeer(id: NodeId): void {
    this.peers.add(id);
  }
  removePeer(id: NodeId): void {
    this.peers.delete(id);
  }
  close(): void {}
}

describe('force new cluster: the plan', () => {
  it('appends committed removals of every other member after the last entry, keeping the tail past the old commit', () => {
    const f = forceNewCluster('a', threeVoterLog());
    assert.deepEqual(f.removed, ['b', 'c']);
    assert.deepEqual(f.entries.map((e) => [e.index, e.term, e.type]), [[6, 3, 'confChange'], [7, 3, 'confChange']]);
    assert.deepEqual(f.entries.map((e) => decodeConfChange(e.data)), [{ type: 'removeNode', nodeId: 'b' }, { type: 'removeNode', nodeId: 'c' }]);
    assert.deepEqual(f.hardState, { term: 3, vote: 'b', commit: 7 });
    // Entry 5 was past this member's commit: it may have been committed by the lost leader.
    assert.deepEqual(f.recovered.entries.map((e) => e.index), [1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(lastConfState(undefined, f.recovered.entries), { voters: ['a'], learners: [] });
  });

  it('removes learners too, and promotes this member when it was a learner', () => {
    const log = threeVoterLog();
    log.entries.push(conf(6, 2, 'addLearner', 'd'));
    assert.deepEqual(forceNewCluster('a', log).removed, ['b', 'c', 'd']);
    const asLearner = forceNewCluster('d', log);
    assert.deepEqual(decodeConfChange(asLearner.entries[0]!.data), { type: 'addNode', nodeId: 'd' });
    assert.deepEqual(lastConfState(undefined, asLearner.recovered.entries), { voters: ['d'], learners: [] });
  });

  it('starts from the snapshot configuration when the log was compacted', () => {
    const snapshot = { metadata: { index: 10, term: 4, confState: { voters: ['a', 'b', 'c'], learners: [] } }, data: new Uint8Array() };
    const f = forceNewCluster('b', { hardState: { term: 4, vote: '', commit: 10 }, snapshot, entries: [] });
    assert.deepEqual(f.entries.map((e) => [e.index, e.term]), [[11, 4], [12, 4]]);
    assert.deepEqual(f.removed, ['a', 'c']);
    assert.equal(f.hardState.commit, 12);
  });

  it('refuses a member that has no log or was removed from its group', () => {
    assert.throws(() => forceNewCluster('a', { hardState: { term: 0, vote: '', commit: 0 }, entries: [] }), ForceNewClusterError);
    const log = threeVoterLog();
    log.entries.push(conf(6, 2, 'removeNode', 'a'));
    assert.throws(() => forceNewCluster('a', log), /was removed from its raft group/);
  });
});

describe('force new cluster: the node', () => {
  const nodes: RaftNode[] = [];
  afterEach(() => {
    for (const n of nodes.splice(0)) n.stop();
  });

  function startNode(disk: MemoryDisk, force: boolean) {
    const { storage, state } = disk.open();
    const applied: string[] = [];
    const transport = new FakeTransport();
    // The caller saves forced.entries before start(), as RaftGroup does.
    const forced = force ? forceNewCluster('a', state) : undefined;
    const node = new RaftNode({
      id: 'a', storage, recovered: forced?.recovered ?? state,
      stateMachine: { apply: (_i, d) => applied.push(dec.decode(d)), snapshot: () => new Uint8Array(), restore: () => {} },
      transport: () => transport,
      tickMs: 2, electionTicks: 10, rng: () => 0.5,
    });
    nodes.push(node);
    return { node, storage, applied, transport, forced };
  }

  it('a member of a three-voter group that lost quorum leads alone, with every entry it held applied', async () => {
    const disk = new MemoryDisk();
    {
      const { storage } = disk.open();
      const log = threeVoterLog();
      await storage.save(log.hardState, log.entries, true);
      await storage.close();
    }
    // Without forcing, it can never win an election: two of three voters are gone.
    const stuck = startNode(disk, false);
    await stuck.node.start();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(stuck.node.isLeader(), false);
    stuck.node.stop();
    await stuck.storage.close();

    const s = startNode(disk, true);
    await s.storage.save(s.forced!.hardState, s.forced!.entries, true);
    await s.node.start();
    await waitUntil('a leads', () => s.node.isLeader());
    assert.deepEqual(s.applied, ['x=1', 'x=2']);
    assert.deepEqual(s.node.status().members.map((m) => [m.id, m.voter]), [['a', true]]);
    assert.deepEqual([...s.transport.peers], []);
    const index = await s.node.propose(enc.encode('x=3'));
    assert.ok(index > 7);
    assert.deepEqual(s.applied, ['x=1', 'x=2', 'x=3']);
    s.node.stop();
    await s.storage.close();

    // The removals are in its log: a plain restart is still a one-member group.
    const again = startNode(disk, false);
    await again.node.start();
    await waitUntil('a leads after a restart', () => again.node.isLeader());
    assert.deepEqual(again.applied, ['x=1', 'x=2', 'x=3']);
    assert.deepEqual(again.node.status().members.map((m) => m.id), ['a']);
  });
});
