import { strict as assert } from 'node:assert';
import { NodeAvailability, NodeState, RestartCondition, Service, Task, TaskState } from '@tswarm/api';
import { Actions, reconcileReplicated } from '../../src/index.js';
import { apply, ids, meant, node, report, service, settle, withReplicas } from './fixtures.js';

const NODES = [node('n1'), node('n2')];
const { TASK_STATE_RUNNING: RUNNING, TASK_STATE_SHUTDOWN: SHUTDOWN, TASK_STATE_FAILED: FAILED } = TaskState;
const { TASK_STATE_COMPLETE: COMPLETE, TASK_STATE_PENDING: PENDING } = TaskState;

/** A little event loop: reconcile, apply, let agents converge, repeat until quiet. */
class Loop {
  tasks: Task[] = [];
  last!: Actions;
  readonly newId = ids();
  constructor(public svc: Service, public nodes = NODES, public historyLimit?: number) {}
  step(nowMs: number): Actions {
    this.last = reconcileReplicated(this.svc, this.tasks, this.nodes, nowMs, this.newId, { historyLimit: this.historyLimit });
    this.tasks = apply(this.tasks, this.last);
    return this.last;
  }
  converge(nowMs: number): this {
    this.step(nowMs);
    this.tasks = settle(this.tasks, nowMs);
    return this;
  }
  slots(): number[] {
    return meant(this.tasks).map((t) => t.slot).sort((a, b) => a - b);
  }
  inSlot(slot: number): Task[] {
    return this.tasks.filter((t) => t.slot === slot);
  }
  fail(id: string, nowMs: number, state: TaskState = FAILED): void {
    this.tasks = report(this.tasks, id, state, nowMs);
  }
}

const quiet = (a: Actions): boolean =>
  a.create.length + a.update.length + a.delete.length + a.delayed.length === 0;

describe('replicated orchestrator: scaling', () => {
  it('creates one PENDING task per slot, on the current spec, desired RUNNING', () => {
    const a = new Loop(service('web', { replicas: 3, specVersion: 4 })).step(100);
    assert.deepEqual(a.create.map((t) => [t.id, t.slot, t.desiredState, t.status?.state, t.specVersion, t.nodeId]), [
      ['t1', 1, RUNNING, PENDING, 4, ''],
      ['t2', 2, RUNNING, PENDING, 4, ''],
      ['t3', 3, RUNNING, PENDING, 4, ''],
    ]);
    assert.equal(a.create[0].status?.message, 'pending task scheduling');
    assert.equal(a.create[0].serviceName, 'web');
    assert.equal(a.create[0].meta?.createdAtMs, 100);
  });

  it('does nothing more once the slots are filled (idempotent)', () => {
    const loop = new Loop(service('web', { replicas: 3 }));
    loop.step(100);
    assert.ok(quiet(loop.step(100)), 'right after creating');
    loop.tasks = settle(loop.tasks, 200);
    assert.ok(quiet(loop.step(300)), 'once running');
  });

  it('scales up into the next slots and down from the highest slots', () => {
    const loop = new Loop(service('web', { replicas: 3 })).converge(100);
    loop.svc = withReplicas(loop.svc, 5);
    assert.deepEqual(loop.step(200).create.map((t) => t.slot), [4, 5]);
    loop.tasks = settle(loop.tasks, 200);
    loop.svc = withReplicas(loop.svc, 2);
    const down = loop.step(300);
    assert.deepEqual(down.update.map((t) => [t.slot, t.desiredState]), [[3, SHUTDOWN], [4, SHUTDOWN], [5, SHUTDOWN]]);
    assert.deepEqual(down.create, []);
    assert.deepEqual(loop.slots(), [1, 2]);
    // Once the agents report them stopped, removed slots keep no history.
    loop.tasks = settle(loop.tasks, 400);
    assert.deepEqual(loop.step(500).delete.map((t) => t.slot), [3, 4, 5]);
    assert.equal(loop.tasks.length, 2);
  });

  it('never renumbers surviving slots', () => {
    const loop = new Loop(service('web', { replicas: 3 }));
    loop.tasks = settle(
      apply([], { create: [1, 2, 5].map((slot) => ({ ...new Loop(service('web', { replicas: 1 })).step(0).create[0], id: `s${slot}`, slot })) }),
      0,
    );
    assert.ok(quiet(loop.step(10)));
    loop.svc = withReplicas(loop.svc, 4);
    assert.deepEqual(loop.step(20).create.map((t) => t.slot), [3]);
  });
});

describe('replicated orchestrator: restart policy', () => {
  it('condition any: a failed or completed task is replaced in its slot', () => {
    const loop = new Loop(service('web', { replicas: 2 })).converge(100);
    loop.fail('t1', 200);
    loop.fail('t2', 200, COMPLETE);
    const a = loop.step(300);
    assert.deepEqual(a.update.map((t) => [t.id, t.desiredState]), [['t1', SHUTDOWN], ['t2', SHUTDOWN]]);
    assert.deepEqual(a.create.map((t) => [t.slot, t.restartCount]), [[1, 1], [2, 1]]);
    assert.ok(quiet(loop.step(300)));
  });

  it('condition on-failure: a completed task settles its slot, a failed one is replaced', () => {
    const loop = new Loop(service('web', { replicas: 2, restart: { condition: RestartCondition.RESTART_CONDITION_ON_FAILURE } })).converge(100);
    loop.fail('t1', 200, COMPLETE);
    loop.fail('t2', 200, FAILED);
    const a = loop.step(300);
    assert.deepEqual(a.update.map((t) => [t.id, t.desiredState]), [['t1', COMPLETE], ['t2', SHUTDOWN]]);
    assert.deepEqual(a.create.map((t) => t.slot), [2]);
    assert.ok(quiet(loop.step(400)), 'the settled slot stays settled');
  });

  it('condition none: nothing is restarted', () => {
    const loop = new Loop(service('web', { replicas: 1, restart: { condition: RestartCondition.RESTART_CONDITION_NONE } })).converge(100);
    loop.fail('t1', 200);
    const a = loop.step(300);
    assert.deepEqual(a.create, []);
    assert.deepEqual(a.update.map((t) => [t.id, t.desiredState]), [['t1', COMPLETE]]);
    assert.ok(quiet(loop.step(400)));
  });

  it('delay: the replacement waits until delay after the task ended, then appears', () => {
    const loop = new Loop(service('web', { replicas: 1, restart: { delayMs: 5_000 } })).converge(100);
    loop.fail('t1', 1_000);
    const early = loop.step(2_000);
    assert.deepEqual(early.delayed.map((d) => [d.task.id, d.notBeforeMs]), [['t1', 6_000]]);
    assert.deepEqual([early.create, early.update], [[], []], 'nothing written while waiting');
    assert.equal(loop.step(5_999).delayed.length, 1, 'asking again early changes nothing');
    const due = loop.step(6_000);
    assert.deepEqual(due.create.map((t) => [t.slot, t.restartCount]), [[1, 1]]);
    assert.deepEqual(due.delayed, []);
  });

  it('delay is skipped for a task whose node was drained', () => {
    const nodes = [node('n1', { availability: NodeAvailability.NODE_AVAILABILITY_DRAIN })];
    const loop = new Loop(service('web', { replicas: 1, restart: { delayMs: 5_000 } }), nodes).converge(100);
    loop.fail('t1', 1_000);
    assert.equal(loop.step(1_001).create.length, 1);
  });

  it('max attempts: stops restarting a slot after that many restarts', () => {
    const loop = new Loop(service('web', { replicas: 1, restart: { maxAttempts: 2 } })).converge(0);
    for (const [id, at] of [['t1', 10], ['t2', 20]] as const) {
      loop.fail(id, at);
      assert.equal(loop.step(at).create.length, 1, `restart after ${id}`);
      loop.tasks = settle(loop.tasks, at);
    }
    assert.deepEqual(loop.tasks.map((t) => t.restartCount), [0, 1, 2]);
    loop.fail('t3', 30);
    const a = loop.step(30);
    assert.deepEqual([a.create, a.update.map((t) => [t.id, t.desiredState])], [[], [['t3', COMPLETE]]]);
  });

  it('max attempts with a window: only restarts inside the window count', () => {
    const loop = new Loop(service('web', { replicas: 1, restart: { maxAttempts: 1, windowMs: 1_000 } })).converge(0);
    loop.fail('t1', 100);
    assert.equal(loop.step(100).create.length, 1, 'first restart');
    loop.tasks = settle(loop.tasks, 100);
    loop.fail('t2', 5_000); // t2 (a restart) was created at 100, outside (4000, 5000]
    assert.equal(loop.step(5_000).create.length, 1, 'the old restart fell out of the window');
    loop.tasks = settle(loop.tasks, 5_000);
    loop.fail('t3', 5_500); // t3 created at 5000, inside (4500, 5500]
    assert.deepEqual(loop.step(5_500).create, []);
  });

  it('a new spec version resets the attempt count', () => {
    const loop = new Loop(service('web', { replicas: 1, restart: { maxAttempts: 1 } })).converge(0);
    loop.fail('t1', 10);
    loop.step(10);
    loop.tasks = settle(loop.tasks, 10);
    loop.svc = { ...loop.svc, specVersion: 2 };
    loop.fail('t2', 20);
    const a = loop.step(20);
    assert.deepEqual(a.create.map((t) => [t.restartCount, t.specVersion]), [[1, 2]]);
  });
});

describe('replicated orchestrator: node failures', () => {
  it('a task on a node that went DOWN is rescheduled at once', () => {
    const loop = new Loop(service('web', { replicas: 2, restart: { delayMs: 5_000 } })).converge(100);
    loop.tasks = report(loop.tasks, 't2', RUNNING, 100, 'n2');
    loop.nodes = [node('n1'), node('n2', { state: NodeState.NODE_STATE_DOWN })];
    const a = loop.step(200);
    assert.deepEqual(a.update.map((t) => [t.id, t.desiredState]), [['t2', SHUTDOWN]]);
    assert.deepEqual(a.create.map((t) => [t.slot, t.nodeId, t.restartCount]), [[2, '', 0]]);
    assert.deepEqual(a.delayed, []);
  });

  it('drained or removed nodes lose their tasks even with restart condition none', () => {
    const loop = new Loop(service('web', { replicas: 2, restart: { condition: RestartCondition.RESTART_CONDITION_NONE } })).converge(100);
    loop.tasks = report(loop.tasks, 't2', RUNNING, 100, 'n2');
    loop.nodes = [node('n1', { availability: NodeAvailability.NODE_AVAILABILITY_DRAIN })];
    const a = loop.step(200);
    assert.deepEqual(a.update.map((t) => t.id), ['t1', 't2']);
    assert.deepEqual(a.create.map((t) => t.slot), [1, 2]);
  });

  it('a DISCONNECTED node keeps its tasks for now', () => {
    const loop = new Loop(service('web', { replicas: 1 })).converge(100);
    loop.nodes = [node('n1', { state: NodeState.NODE_STATE_DISCONNECTED })];
    assert.ok(quiet(loop.step(200)));
  });
});

describe('replicated orchestrator: task history', () => {
  it('keeps the newest historyLimit stopped tasks per slot and deletes the older ones', () => {
    const loop = new Loop(service('web', { replicas: 1 }), NODES, 2).converge(0);
    for (let i = 1; i <= 4; i++) {
      loop.fail(`t${i}`, i * 10);
      loop.step(i * 10);
      loop.tasks = settle(loop.tasks, i * 10);
    }
    // t1..t4 failed and were replaced; t5 runs. History limit 2 keeps t3, t4.
    assert.deepEqual(loop.inSlot(1).map((t) => t.id).sort(), ['t3', 't4', 't5']);
  });

  it('does not delete a task that is still shutting down', () => {
    const loop = new Loop(service('web', { replicas: 2 }), NODES, 0).converge(0);
    loop.svc = withReplicas(loop.svc, 1);
    const a = loop.step(10);
    assert.deepEqual(a.delete, [], 't2 is told to stop but has not stopped');
    loop.tasks = settle(loop.tasks, 20);
    assert.deepEqual(loop.step(30).delete.map((t) => t.id), ['t2']);
  });
});
