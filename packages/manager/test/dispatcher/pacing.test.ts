import * as assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { StatusError } from '@tswarm/ca';
import { flushDelayMs, silentLogger, type AssignmentsMessage, type NetworkView } from '@tswarm/api';
import { ASSIGNMENT_BATCH_MS, AssignmentStream, NetworkViewPublisher, type TimerHandle } from '../../src/index.js';
import { localStore, newTask, putNode, putTasks, sleep } from './harness.js';

describe('batcher pacing: the first change after a quiet period at once, then at most one flush per period', () => {
  it('waits nothing after a quiet period, else until a period after the last flush', () => {
    assert.equal(flushDelayMs(-Infinity, 20, 1_000), 0);
    assert.equal(flushDelayMs(970, 20, 1_000), 0);
    assert.equal(flushDelayMs(990, 20, 1_000), 10);
    assert.equal(flushDelayMs(1_000, 20, 1_000), 20);
  });

  /** Timers that run only when told, on a clock the test moves; records each requested delay. */
  function manualTimers() {
    let now = 1_000;
    const pending = new Map<number, () => void>();
    const delays: number[] = [];
    let next = 0;
    return {
      delays,
      advance(ms: number) { now += ms; },
      fireAll() { const fns = [...pending.values()]; pending.clear(); for (const fn of fns) fn(); },
      deps: {
        nowMs: () => now,
        setTimer: (fn: () => void, ms: number): TimerHandle => { delays.push(ms); pending.set(++next, fn); return next; },
        clearTimer: (h: TimerHandle) => { pending.delete(h as number); },
      },
    };
  }

  /** Lets the store's watch deliver what was just committed. */
  const settle = () => sleep(5);

  it('an assignment stream sends a new task at once after a quiet period, the next change no sooner than a period later', async () => {
    const { store } = localStore();
    await putNode(store, 'n1');
    const t = manualTimers();
    const sent: AssignmentsMessage[] = [];
    const stream = new AssignmentStream({ store, logger: silentLogger, ...t.deps }, 'n1', { send: (m) => sent.push(m), end: () => undefined });
    stream.start();
    assert.equal(sent.length, 1, 'the complete set');

    await putTasks(store, newTask('a', 'n1'));
    await settle();
    assert.deepEqual(t.delays, [0], 'first change after a quiet period: no wait');
    t.fireAll();
    assert.equal(sent.length, 2);

    t.advance(5);
    await putTasks(store, newTask('b', 'n1'));
    await putTasks(store, newTask('c', 'n1'));
    await settle();
    assert.deepEqual(t.delays, [0, ASSIGNMENT_BATCH_MS - 5], 'within a period of the last flush: waits for the rest of it, one timer for both');
    t.fireAll();
    assert.equal(sent.length, 3);
    assert.deepEqual(sent[2]!.changes.map((c) => c.task!.id).sort(), ['b', 'c']);

    t.advance(ASSIGNMENT_BATCH_MS);
    await putTasks(store, newTask('d', 'n1'));
    await settle();
    assert.deepEqual(t.delays.slice(2), [0], 'quiet again for a period: no wait');
    stream.close(new StatusError(grpc.status.CANCELLED, 'test over'));
  });

  it('the network-view publisher rebuilds at once after a quiet period, the next no sooner than a period later', async () => {
    const { store } = localStore();
    await putNode(store, 'n1');
    const t = manualTimers();
    const views: NetworkView[] = [];
    const publisher = new NetworkViewPublisher({ store, logger: silentLogger, ...t.deps }, () => [{ nodeId: 'n1', offerNetworkView: (v) => views.push(v) }]);
    publisher.start();

    await putTasks(store, newTask('a', 'n1'));
    await settle();
    assert.deepEqual(t.delays, [0]);
    t.fireAll();
    assert.equal(views.length, 1);

    t.advance(8);
    await putTasks(store, newTask('b', 'n1'));
    await settle();
    assert.deepEqual(t.delays, [0, ASSIGNMENT_BATCH_MS - 8]);
    publisher.stop();
  });
});
