import * as assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { LEADER_HINT_KEY, NodeAvailability, NodeState, SessionMessage, SessionRequest } from '@tswarm/api';
import { nodesTable } from '../../src/index.js';
import { Reader, beat, nodeOf, openSession, putCluster, putNode, sleep, startHarness, waitFor, type Harness } from './harness.js';

describe('dispatcher sessions', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('marks the node READY with its description and peer address, then sends session id, managers and period', async () => {
    h = await startHarness({ seed: async (s) => putNode(s, 'n1') });
    const { first } = await openSession(h, 'n1', 'host-1');
    assert.equal(first.sessionId, 'session-1');
    assert.deepEqual(first.managers, [{ nodeId: 'mgr-1', addr: '10.0.0.1:2377' }]);
    assert.equal(first.heartbeatPeriodMs, 1000);
    // The READY write committed before the first message went out.
    const node = nodeOf(h.store, 'n1')!;
    assert.equal(node.status?.state, NodeState.NODE_STATE_READY);
    assert.equal(node.status?.addr, '127.0.0.1');
    assert.equal(node.description?.hostname, 'host-1');
  });

  it('creates the node object when the join path did not', async () => {
    h = await startHarness();
    await openSession(h, 'stranger');
    assert.equal(nodeOf(h.store, 'stranger')?.status?.state, NodeState.NODE_STATE_READY);
  });

  it('takes heartbeat settings from the cluster object when present', async () => {
    h = await startHarness({ seed: async (s) => { await putCluster(s, 2500, 4); await putNode(s, 'n1'); } });
    assert.deepEqual(h.dispatcher.settings, { heartbeatPeriodMs: 2500, heartbeatMisses: 4 });
    const { first } = await openSession(h, 'n1');
    assert.equal(first.heartbeatPeriodMs, 2500);
  });

  it('refuses a caller without a node identity', async () => {
    h = await startHarness();
    const r = new Reader(h.client.session(SessionRequest.create()));
    assert.equal((await r.ended())?.code, grpc.status.UNAUTHENTICATED);
  });

  it('a second session for the same node replaces the first, whose stream ends ABORTED', async () => {
    h = await startHarness({ seed: async (s) => putNode(s, 'n1') });
    const a = await openSession(h, 'n1');
    const b = await openSession(h, 'n1');
    assert.notEqual(a.sessionId, b.sessionId);
    assert.equal((await a.reader.ended())?.code, grpc.status.ABORTED);
    assert.equal(b.reader.done, false);
    await assert.rejects(beat(h, 'n1', a.sessionId), { code: grpc.status.NOT_FOUND });
    await beat(h, 'n1', b.sessionId);
  });

  it('a session id is only good for the node that owns it', async () => {
    h = await startHarness({ seed: async (s) => { await putNode(s, 'n1'); await putNode(s, 'n2'); } });
    const a = await openSession(h, 'n1');
    await assert.rejects(beat(h, 'n2', a.sessionId), { code: grpc.status.NOT_FOUND });
  });

  it('re-sends the session message when the manager list changes', async () => {
    h = await startHarness({ seed: async (s) => putNode(s, 'n1') });
    const { reader } = await openSession(h, 'n1');
    h.managers.push({ nodeId: 'mgr-2', addr: '10.0.0.2:2377' });
    h.dispatcher.managersChanged();
    const second = await reader.nth(2);
    assert.deepEqual(second.managers.map((m) => m.nodeId), ['mgr-1', 'mgr-2']);
  });

  it('notices a changed manager list on its sweep even without managersChanged()', async () => {
    h = await startHarness({ config: { heartbeatPeriodMs: 100, heartbeatMisses: 50 }, seed: async (s) => putNode(s, 'n1') });
    const { reader } = await openSession(h, 'n1');
    h.managers.splice(0, 1, { nodeId: 'mgr-9', addr: '10.0.0.9:2377' });
    assert.deepEqual((await reader.nth(2)).managers, [{ nodeId: 'mgr-9', addr: '10.0.0.9:2377' }]);
  });

  it("re-sends the session message when the node's spec changes, not on its own status writes", async () => {
    h = await startHarness({ seed: async (s) => putNode(s, 'n1') });
    const { reader } = await openSession(h, 'n1');
    await h.store.update((tx) => {
      const row = tx.get(nodesTable, 'n1')!;
      tx.update(nodesTable, { ...row.object, spec: { ...row.object.spec!, availability: NodeAvailability.NODE_AVAILABILITY_DRAIN } }, row.version);
    });
    const second: SessionMessage = await reader.nth(2);
    assert.equal(second.nodeSpec?.availability, NodeAvailability.NODE_AVAILABILITY_DRAIN);
    await sleep(50);
    assert.equal(reader.msgs.length, 2);
  });

  it('ends the session when the node is removed from the swarm', async () => {
    h = await startHarness({ seed: async (s) => putNode(s, 'n1') });
    const { reader } = await openSession(h, 'n1');
    await h.store.update((tx) => tx.delete(nodesTable, 'n1'));
    assert.equal((await reader.ended())?.code, grpc.status.PERMISSION_DENIED);
  });

  it('stop() ends every stream with UNAVAILABLE and refuses new calls with UNAVAILABLE', async () => {
    h = await startHarness({ seed: async (s) => { await putNode(s, 'n1'); await putNode(s, 'n2'); } });
    const a = await openSession(h, 'n1');
    const b = await openSession(h, 'n2');
    const asg = new Reader(h.client.assignments({ sessionId: a.sessionId }, h.as('n1')));
    await asg.nth(1);
    h.dispatcher.stop();
    for (const r of [a.reader, b.reader, asg]) assert.equal((await r.ended())?.code, grpc.status.UNAVAILABLE);
    const again = new Reader(h.client.session(SessionRequest.create(), h.as('n1')));
    assert.equal((await again.ended())?.code, grpc.status.UNAVAILABLE);
    await assert.rejects(beat(h, 'n1', a.sessionId), { code: grpc.status.UNAVAILABLE });
  });

  it('while stopped (a follower) it names the leader; started again it serves a fresh term', async () => {
    h = await startHarness({ start: false, seed: async (s) => putNode(s, 'n1') });
    const refused = new Reader(h.client.session(SessionRequest.create(), h.as('n1')));
    const err = await refused.ended();
    assert.equal(err?.code, grpc.status.UNAVAILABLE);
    assert.match(err!.details, /not the leader; the leader is 10\.0\.0\.2:2377/);
    assert.deepEqual(err!.metadata.get(LEADER_HINT_KEY), ['10.0.0.2:2377'], 'named in the trailers too, for the agent');
    h.dispatcher.start();
    const first = await openSession(h, 'n1');
    h.dispatcher.stop();
    assert.equal((await first.reader.ended())?.code, grpc.status.UNAVAILABLE);
    h.dispatcher.start(); // leadership came back
    const second = await openSession(h, 'n1');
    await beat(h, 'n1', second.sessionId);
    await assert.rejects(beat(h, 'n1', first.sessionId), { code: grpc.status.NOT_FOUND });
  });

  it('a client that cancels its session leaves the node READY until its heartbeats lapse', async () => {
    h = await startHarness({ config: { heartbeatPeriodMs: 40, heartbeatMisses: 3 }, seed: async (s) => putNode(s, 'n1') });
    const { reader } = await openSession(h, 'n1');
    reader.stream.cancel();
    await sleep(30);
    assert.equal(nodeOf(h.store, 'n1')?.status?.state, NodeState.NODE_STATE_READY);
    await waitFor(() => nodeOf(h.store, 'n1')?.status?.state === NodeState.NODE_STATE_DOWN, 2000, 'node DOWN');
  });
});
