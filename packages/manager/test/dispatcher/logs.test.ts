import * as assert from 'node:assert/strict';
import type * as grpc from '@grpc/grpc-js';
import type { LogMessage, PublishLogsMessage, PublishLogsResponse } from '@tswarm/api';
import { newTask, openSession, putNode, putTasks, startHarness, type Harness } from './harness.js';

describe('dispatcher log plumbing', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  /** Plays the agent's PublishLogs client stream. */
  function publish(nodeId: string, msgs: PublishLogsMessage[]): Promise<PublishLogsResponse> {
    return new Promise((resolve, reject) => {
      const call = h.client.publishLogs(h.as(nodeId), (err: grpc.ServiceError | null, res?: PublishLogsResponse) => (err ? reject(err) : resolve(res!)));
      for (const m of msgs) call.write(m);
      call.end();
    });
  }

  const line = (taskId: string, text: string): LogMessage => ({ taskId, nodeId: '', slot: 1, timestampMs: 1, stderr: false, data: Buffer.from(text) });

  it('asks the nodes running the service through their session, and streams what they publish', async () => {
    h = await startHarness({
      seed: async (s) => {
        await putNode(s, 'n1');
        await putNode(s, 'n2');
        await putTasks(s, newTask('a', 'n1'), newTask('b', 'n2'));
      },
    });
    const s1 = await openSession(h, 'n1');
    const s2 = await openSession(h, 'n2');
    const stream = h.dispatcher.subscribeLogs({ serviceId: 'svc-1', follow: false, tail: 10 });
    const sub1 = (await s1.reader.nth(2)).logSubscriptions;
    const sub2 = (await s2.reader.nth(2)).logSubscriptions;
    assert.deepEqual(sub1.map((x) => [x.id, x.serviceId, x.tail, x.close]), [[stream.id, 'svc-1', 10, false]]);
    assert.equal(sub2[0]?.id, stream.id);

    await publish('n1', [{ subscriptionId: stream.id, messages: [line('a', 'hello')], close: true }]);
    await publish('n2', [{ subscriptionId: stream.id, messages: [line('b', 'world')], close: true }]);
    const got: string[] = [];
    for await (const m of stream) got.push(`${m.nodeId}:${Buffer.from(m.data).toString()}`);
    assert.deepEqual(got.sort(), ['n1:hello', 'n2:world']);
  });

  it('closing a follow subscription tells the agents to stop', async () => {
    h = await startHarness({ seed: async (s) => { await putNode(s, 'n1'); await putTasks(s, newTask('a', 'n1')); } });
    const s1 = await openSession(h, 'n1');
    const stream = h.dispatcher.subscribeLogs({ serviceId: 'svc-1', follow: true, tail: 0 });
    await s1.reader.nth(2);
    stream.close();
    const closing = (await s1.reader.nth(3)).logSubscriptions;
    assert.deepEqual(closing.map((x) => [x.id, x.close]), [[stream.id, true]]);
  });

  it('a node may not publish to a subscription it was not asked for', async () => {
    h = await startHarness({ seed: async (s) => { await putNode(s, 'n1'); await putTasks(s, newTask('a', 'n1')); } });
    await openSession(h, 'n1');
    const stream = h.dispatcher.subscribeLogs({ serviceId: 'svc-1', follow: true, tail: 0 });
    await assert.rejects(publish('intruder', [{ subscriptionId: stream.id, messages: [line('a', 'x')], close: false }]), { code: 7 });
    stream.close();
  });

  it('a reader waiting on a followed stream gets the error when the dispatcher stops, not a quiet end', async () => {
    h = await startHarness({ seed: async (s) => { await putNode(s, 'n1'); await putTasks(s, newTask('a', 'n1')); } });
    await openSession(h, 'n1');
    const stream = h.dispatcher.subscribeLogs({ serviceId: 'svc-1', follow: true, tail: 0 });
    const waiting = stream[Symbol.asyncIterator]().next();
    h.dispatcher.stop();
    await assert.rejects(waiting, /leadership moved/);
  });

  it('a service with no tasks placed gives an empty log', async () => {
    h = await startHarness();
    const stream = h.dispatcher.subscribeLogs({ serviceId: 'nothing', follow: false, tail: 0 });
    for await (const _ of stream) assert.fail('no lines expected');
  });
});
