import * as assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { NodeState } from '@tswarm/api';
import { HEARTBEAT_FAILURE_MESSAGE, HEARTBEAT_JITTER, HeartbeatTracker, jitteredPeriodMs, peerHost, sweepIntervalMs } from '../../src/index.js';
import { beat, nodeOf, openSession, putNode, seededRng, sleep, startHarness, waitFor, type Harness } from './harness.js';

describe('heartbeat deadlines (pure)', () => {
  it('a node expires once its window passes without a refresh, and only once', () => {
    const t = new HeartbeatTracker(150);
    t.refresh('a', 0);
    t.refresh('b', 100);
    assert.deepEqual(t.expire(149), []);
    assert.deepEqual(t.expire(150), ['a']);
    assert.deepEqual(t.expire(1000), ['b']);
    assert.deepEqual(t.expire(5000), []);
  });

  it('a refresh pushes the deadline out by one window', () => {
    const t = new HeartbeatTracker(150);
    t.refresh('a', 0);
    t.refresh('a', 140);
    assert.deepEqual(t.expire(200), []);
    assert.equal(t.deadlineOf('a'), 290);
  });

  it('jitter only shortens the period, within HEARTBEAT_JITTER', () => {
    const rng = seededRng(1);
    for (let i = 0; i < 1000; i++) {
      const p = jitteredPeriodMs(5000, rng);
      assert.ok(p <= 5000 && p >= 5000 * (1 - HEARTBEAT_JITTER), `period ${p}`);
    }
    assert.equal(jitteredPeriodMs(5000, () => 0), 5000);
  });

  it('sweeps four times per period', () => {
    assert.equal(sweepIntervalMs(5000), 1250);
  });

  it('peer strings reduce to the host', () => {
    assert.equal(peerHost('10.0.0.5:51234'), '10.0.0.5');
    assert.equal(peerHost('ipv4:10.0.0.5:51234'), '10.0.0.5');
    assert.equal(peerHost('[fd00::5]:51234'), 'fd00::5');
    assert.equal(peerHost('unix:/run/x.sock'), 'unix:/run/x.sock');
  });
});

describe('dispatcher heartbeats', () => {
  let h: Harness;
  afterEach(async () => h?.close());
  const period = 50;

  it('heartbeats keep a node READY well past the window, and give back a jittered period', async () => {
    h = await startHarness({ config: { heartbeatPeriodMs: period, heartbeatMisses: 3 }, seed: async (s) => putNode(s, 'n1') });
    const { sessionId, reader } = await openSession(h, 'n1');
    const until = Date.now() + 6 * period;
    while (Date.now() < until) {
      const r = await beat(h, 'n1', sessionId);
      assert.ok(r.periodMs <= period && r.periodMs >= period * (1 - HEARTBEAT_JITTER));
      await sleep(period / 2);
    }
    assert.equal(nodeOf(h.store, 'n1')?.status?.state, NodeState.NODE_STATE_READY);
    assert.equal(reader.done, false);
  });

  it('a node that misses heartbeatMisses periods goes DOWN with "heartbeat failure" and loses its session', async () => {
    h = await startHarness({ config: { heartbeatPeriodMs: period, heartbeatMisses: 3 }, seed: async (s) => putNode(s, 'n1') });
    const opened = Date.now();
    const { sessionId, reader } = await openSession(h, 'n1');
    assert.equal((await reader.ended(2000))?.code, grpc.status.DEADLINE_EXCEEDED);
    assert.ok(Date.now() - opened >= 3 * period - 5, 'not before the window');
    await waitFor(() => nodeOf(h.store, 'n1')?.status?.state === NodeState.NODE_STATE_DOWN, 1000, 'DOWN in store');
    assert.equal(nodeOf(h.store, 'n1')?.status?.message, HEARTBEAT_FAILURE_MESSAGE);
    await assert.rejects(beat(h, 'n1', sessionId), { code: grpc.status.NOT_FOUND });
    // Reconnecting brings it back.
    await openSession(h, 'n1');
    assert.equal(nodeOf(h.store, 'n1')?.status?.state, NodeState.NODE_STATE_READY);
  });

  it('on start, every node the store thinks up gets one full window to reconnect (grace period)', async () => {
    h = await startHarness({
      config: { heartbeatPeriodMs: period, heartbeatMisses: 3 },
      seed: async (s) => {
        await putNode(s, 'up', NodeState.NODE_STATE_READY);
        await putNode(s, 'back', NodeState.NODE_STATE_READY);
        await putNode(s, 'down', NodeState.NODE_STATE_DOWN);
      },
    });
    const started = Date.now();
    await sleep(2 * period);
    assert.equal(nodeOf(h.store, 'up')?.status?.state, NodeState.NODE_STATE_READY, 'still in its grace period');
    const back = await openSession(h, 'back');
    await waitFor(() => nodeOf(h.store, 'up')?.status?.state === NodeState.NODE_STATE_DOWN, 2000, 'silent node DOWN');
    assert.ok(Date.now() - started >= 3 * period - 5);
    const response = await beat(h, 'back', back.sessionId);
    assert.ok(response.periodMs > 0);
    assert.equal(nodeOf(h.store, 'back')?.status?.state, NodeState.NODE_STATE_READY);
    assert.equal(nodeOf(h.store, 'down')?.status?.message, '', 'a DOWN node is not written again');
  });
});
