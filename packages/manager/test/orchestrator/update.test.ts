import { strict as assert } from 'node:assert';
import { Service, Task, TaskState, UpdateFailureAction, UpdateOrder, UpdateState } from '@tswarm/api';
import { planUpdate, reconcileGlobal, reconcileReplicated, rollbackService, UpdateProgress, UpdateStep } from '../../src/index.js';
import { apply, ids, meant, node, report, service, ServiceOpts, settle, updated } from './fixtures.js';

const NODES = [node('n1'), node('n2')];
const { TASK_STATE_RUNNING: RUNNING, TASK_STATE_READY: READY, TASK_STATE_SHUTDOWN: SHUTDOWN } = TaskState;
const { UPDATE_FAILURE_ACTION_CONTINUE: CONTINUE, UPDATE_FAILURE_ACTION_ROLLBACK: ROLLBACK } = UpdateFailureAction;

/** The manager's loop, in miniature: reconcile, then one update step, writing both back. */
class Loop {
  tasks: Task[] = [];
  progress: UpdateProgress | undefined;
  last!: UpdateStep;
  readonly newId = ids();
  constructor(public svc: Service) {}

  round(nowMs: number): UpdateStep {
    this.tasks = apply(this.tasks, reconcileReplicated(this.svc, this.tasks, NODES, nowMs, this.newId));
    this.last = planUpdate({ service: this.svc, tasks: this.tasks, nodes: NODES, nowMs, progress: this.progress, newId: this.newId });
    this.progress = this.last.progress;
    this.tasks = apply(this.tasks, this.last);
    if (this.last.updateStatus) this.svc = { ...this.svc, updateStatus: this.last.updateStatus };
    if (this.last.rollback) this.svc = rollbackService(this.svc, nowMs, this.last.rollback);
    // Stop-first replacements are promoted by the reconciler once the old task is gone.
    this.tasks = apply(this.tasks, reconcileReplicated(this.svc, this.tasks, NODES, nowMs, this.newId));
    return this.last;
  }
  /** A round, then every agent does what it is told. */
  converge(nowMs: number): UpdateStep {
    const step = this.round(nowMs);
    this.tasks = settle(this.tasks, nowMs);
    this.tasks = apply(this.tasks, reconcileReplicated(this.svc, this.tasks, NODES, nowMs, this.newId));
    this.tasks = settle(this.tasks, nowMs);
    return step;
  }
  update(o: ServiceOpts): void {
    this.svc = updated(this.svc, o);
  }
  images(): string[] {
    return meant(this.tasks).sort((a, b) => a.slot - b.slot).map((t) => t.spec!.container!.image);
  }
  state(): UpdateState | undefined {
    return this.svc.updateStatus?.state;
  }
  failNewest(nowMs: number): string {
    const t = this.tasks.filter((x) => x.desiredState === RUNNING && x.specVersion === this.svc.specVersion).at(-1)!;
    this.tasks = report(this.tasks, t.id, TaskState.TASK_STATE_FAILED, nowMs);
    return t.id;
  }
}

/** A service at nginx:1, just updated to nginx:2. Times start at 1 s: status time 0 means unset. */
function started(replicas: number, update: ServiceOpts['update'], more: ServiceOpts = {}): Loop {
  const l = new Loop(service('web', { replicas, image: 'nginx:1', update, ...more }));
  l.converge(1_000);
  l.update({ replicas, image: 'nginx:2', update, ...more });
  return l;
}

describe('rolling update: parallelism and order', () => {
  it('stop-first, parallelism 1: one slot at a time, the new task waiting in READY until the old stopped', () => {
    const l = started(3, { parallelism: 1, monitorMs: 1_000 });
    const s = l.round(1010);
    assert.equal(l.state(), UpdateState.UPDATE_STATE_UPDATING);
    assert.deepEqual(s.update.map((t) => [t.slot, t.desiredState]), [[1, SHUTDOWN]]);
    assert.deepEqual(s.create.map((t) => [t.slot, t.desiredState, t.spec!.container!.image]), [[1, READY, 'nginx:2']]);
    assert.deepEqual(l.round(1011).create, [], 'the lane is busy until the new task runs');
    l.tasks = settle(l.tasks, 1012); // the old task stops; the reconciler promotes the new one
    assert.deepEqual(l.round(1012).create, []);
    assert.equal(l.tasks.find((t) => t.id === s.create[0].id)!.desiredState, RUNNING);
    l.tasks = settle(l.tasks, 1013);
    assert.deepEqual(l.converge(1013).create.map((t) => t.slot), [2]);
    assert.deepEqual(l.converge(1014).create.map((t) => t.slot), [3]);
    assert.deepEqual(l.images(), ['nginx:2', 'nginx:2', 'nginx:2']);
    const waiting = l.converge(1015);
    assert.equal(l.state(), UpdateState.UPDATE_STATE_UPDATING, 'monitoring the last task');
    assert.equal(waiting.wakeAtMs, 1_014 + 1_000);
    l.converge(2_014);
    assert.equal(l.state(), UpdateState.UPDATE_STATE_COMPLETED);
    assert.equal(l.svc.updateStatus?.message, 'update completed');
    assert.equal(l.progress, undefined);
  });

  it('parallelism 0 replaces every slot at once', () => {
    const l = started(4, { parallelism: 0 });
    assert.equal(l.round(1_010).create.length, 4);
  });

  it('parallelism 2 with a delay: the next batch waits for delay after the previous tasks ran', () => {
    const l = started(3, { parallelism: 2, delayMs: 10_000 });
    assert.equal(l.converge(1_000).create.length, 2);
    const s = l.converge(1_001);
    assert.deepEqual(s.create, []);
    assert.equal(s.wakeAtMs, 11_000, 'tasks ran at 1000; lanes free at 1000 + delay');
    assert.deepEqual(l.converge(10_999).create, []);
    assert.deepEqual(l.converge(11_000).create.map((t) => t.slot), [3]);
  });

  it('start-first: the new task starts beside the old one, which stops once the new one runs', () => {
    const l = started(2, { parallelism: 1, order: UpdateOrder.UPDATE_ORDER_START_FIRST });
    const s = l.round(1010);
    assert.deepEqual(s.update, []);
    assert.deepEqual(s.create.map((t) => [t.slot, t.desiredState]), [[1, RUNNING]]);
    assert.equal(meant(l.tasks).filter((t) => t.slot === 1).length, 2, 'old and new both meant to run');
    l.tasks = settle(l.tasks, 1011);
    const next = l.round(1011);
    assert.deepEqual(next.update.map((t) => [t.slot, t.specVersion, t.desiredState]), [[1, 1, SHUTDOWN]]);
    assert.deepEqual(next.create.map((t) => t.slot), [2]);
  });

  it('does nothing for a service whose tasks all run its spec', () => {
    const l = new Loop(service('web', { replicas: 2 }));
    const s = l.converge(1000);
    assert.deepEqual([s.create, s.update, s.updateStatus, s.progress], [[], [], undefined, undefined]);
  });
});

describe('rolling update: failures', () => {
  it('pause: a new task failing within the monitor period pauses the update', () => {
    const l = started(3, { parallelism: 1, monitorMs: 5_000 });
    l.converge(1000);
    const failed = l.failNewest(1100);
    l.round(1200);
    assert.equal(l.state(), UpdateState.UPDATE_STATE_PAUSED);
    assert.equal(l.svc.updateStatus?.message, `update paused due to failure or early termination of task ${failed}`);
    l.tasks = settle(l.tasks, 1300);
    assert.deepEqual(l.round(11_000).create.filter((t) => t.slot !== 1), [], 'paused: no further slots');
    assert.deepEqual(l.images().slice(1), ['nginx:1', 'nginx:1']);
  });

  it('a task failing after the monitor period is not the update\'s failure', () => {
    const l = started(2, { parallelism: 1, monitorMs: 1_000 });
    l.converge(1_000);
    l.round(1_001); // the loop steps on every task change: it sees the new task RUNNING
    l.failNewest(5_000);
    l.converge(5_000);
    assert.equal(l.state(), UpdateState.UPDATE_STATE_UPDATING);
  });

  it('continue: failures do not stop the update', () => {
    const l = started(3, { parallelism: 1, failureAction: CONTINUE });
    for (let now = 1_000; now < 1_003; now++) {
      l.converge(now);
      l.failNewest(now);
    }
    assert.equal(l.state(), UpdateState.UPDATE_STATE_UPDATING);
    const slotsTried = new Set(l.tasks.filter((t) => t.spec!.container!.image === 'nginx:2').map((t) => t.slot));
    assert.deepEqual([...slotsTried].sort(), [1, 2, 3], 'every slot was updated despite the failures');
  });

  it('max failure ratio: failures up to the ratio of slots are tolerated', () => {
    const l = started(4, { parallelism: 1, maxFailureRatio: 0.5 });
    l.converge(1000);
    l.failNewest(1001);
    l.converge(1001); // 1 of 4
    l.failNewest(1002);
    l.converge(1002); // 2 of 4 = 0.5, not above
    assert.equal(l.state(), UpdateState.UPDATE_STATE_UPDATING);
    l.failNewest(1003);
    l.converge(1003); // 3 of 4
    assert.equal(l.state(), UpdateState.UPDATE_STATE_PAUSED);
  });

  it('rollback: the service goes back to its previous spec, replacing only the updated slots', () => {
    const l = started(3, { parallelism: 1, failureAction: ROLLBACK });
    l.converge(1000);
    const failed = l.failNewest(1001);
    const s = l.round(1002);
    assert.equal(s.rollback, `update rolled back due to failure or early termination of task ${failed}`);
    assert.equal(l.state(), UpdateState.UPDATE_STATE_ROLLBACK_STARTED);
    assert.equal(l.svc.spec!.task!.container!.image, 'nginx:1');
    assert.equal(l.svc.specVersion, 3);
    for (let now = 1_003; now < 1_010; now++) l.converge(now);
    assert.deepEqual(l.images(), ['nginx:1', 'nginx:1', 'nginx:1']);
    // Slots 2 and 3 never left nginx:1: still the tasks created at the start.
    assert.deepEqual(meant(l.tasks).filter((t) => t.slot > 1).map((t) => t.specVersion), [1, 1]);
    l.converge(100_000);
    assert.equal(l.state(), UpdateState.UPDATE_STATE_ROLLBACK_COMPLETED);
  });

  it('a failing rollback pauses instead of rolling back again', () => {
    const l = started(2, { parallelism: 1 }, { rollback: { parallelism: 1, failureAction: ROLLBACK } });
    l.converge(1_000); // slot 1 runs nginx:2
    l.svc = rollbackService(l.svc, 1_001); // `service update --rollback`
    l.converge(1_001); // slot 1 back to nginx:1
    const failed = l.failNewest(1_002);
    const s = l.round(1_003);
    assert.equal(s.rollback, undefined);
    assert.equal(l.state(), UpdateState.UPDATE_STATE_ROLLBACK_PAUSED);
    assert.equal(l.svc.updateStatus?.message, `rollback paused due to failure or early termination of task ${failed}`);
  });

  it('rollbackService swaps the specs and refuses when there is no previous spec', () => {
    const l = started(1, undefined);
    const r = rollbackService(l.svc, 50);
    assert.deepEqual([r.spec, r.previousSpec, r.specVersion], [l.svc.previousSpec, l.svc.spec, l.svc.specVersion + 1]);
    assert.deepEqual(r.updateStatus, { state: UpdateState.UPDATE_STATE_ROLLBACK_STARTED, startedAtMs: 50, completedAtMs: 0, message: 'manually requested rollback' });
    assert.throws(() => rollbackService(service('db'), 0), { message: 'service db has no previous spec to roll back to' });
  });
});

describe('rolling update: global services', () => {
  it('replaces each node\'s task on that node, one node at a time', () => {
    const newId = ids('g');
    let svc = service('agent', { global: true, image: 'a:1', update: { parallelism: 1 } });
    let tasks = settle(apply([], reconcileGlobal(svc, [], NODES, 1_000, newId)), 1_000);
    svc = updated(svc, { global: true, image: 'a:2', update: { parallelism: 1 } });
    const step = planUpdate({ service: svc, tasks, nodes: NODES, nowMs: 1_001, newId });
    assert.deepEqual(step.create.map((t) => [t.nodeId, t.slot, t.desiredState, t.spec!.container!.image]), [['n1', 0, READY, 'a:2']]);
    assert.deepEqual(step.update.map((t) => [t.nodeId, t.desiredState]), [['n1', SHUTDOWN]]);
    tasks = settle(apply(tasks, step), 1_002);
    const promote = reconcileGlobal(svc, tasks, NODES, 1_002, newId);
    assert.deepEqual(promote.update.map((t) => [t.nodeId, t.desiredState]), [['n1', RUNNING]]);
    tasks = settle(apply(tasks, promote), 1_003);
    const next = planUpdate({ service: svc, tasks, nodes: NODES, nowMs: 1_003, progress: step.progress, newId });
    assert.deepEqual(next.create.map((t) => t.nodeId), ['n2']);
  });
});
