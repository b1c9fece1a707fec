import { strict as assert } from 'node:assert';
import { RestartCondition, Service, TaskState, UpdateState } from '@tswarm/api';
import { renderProgress } from '../src/index.js';
import { FakeDaemon } from './fake.js';
import { node, service, spec, task } from './fixtures.js';

const S = 'svc0123456789abcdefghijklm';
const FULL = `[${'='.repeat(50)}>]`;
const WIDE = 200;

function web(replicas: number): Service {
  return service(S, spec('web', 'nginx', { $case: 'replicated', value: { replicas } }));
}

describe('convergence progress', () => {
  const active = new Set(['n1', 'n2']);

  it('draws one line per slot with Docker\'s bars, counting running tasks', () => {
    const f = renderProgress({
      service: web(3), rollback: false, columns: WIDE, activeNodes: active,
      tasks: [
        task('a', S, 1, 'n1', TaskState.TASK_STATE_RUNNING),
        task('b', S, 2, 'n2', TaskState.TASK_STATE_STARTING),
        task('c', S, 3, 'n1', TaskState.TASK_STATE_PREPARING),
      ],
    });
    assert.deepEqual(f.lines, [
      'overall progress: 1 out of 3 tasks',
      `1/3: running   ${FULL}`,
      `2/3: starting  [${'='.repeat(44)}>${' '.repeat(6)}]`,
      `3/3: preparing [${'='.repeat(33)}>${' '.repeat(17)}]`,
    ]);
    assert.deepEqual([f.running, f.total, f.converged, f.failure], [1, 3, false, undefined]);
  });

  it('leaves bars out on narrow terminals and shows errors and unschedulable reasons instead', () => {
    const f = renderProgress({
      service: web(3), rollback: false, columns: 80, activeNodes: active,
      tasks: [
        task('a', S, 1, 'n1', TaskState.TASK_STATE_RUNNING),
        task('b', S, 2, '', TaskState.TASK_STATE_PENDING, { message: 'no suitable node (1 node lacks 2 GiB memory)' }),
        task('c', S, 3, 'n1', TaskState.TASK_STATE_REJECTED, { err: 'No such image: nginx:nope' }),
      ],
    });
    assert.deepEqual(f.lines, ['overall progress: 1 out of 3 tasks', '1/3: running', '2/3: no suitable node (1 node lacks 2 GiB memory)', '3/3: No such image: nginx:nope']);
  });

  it('prefers the replacement over the failed task of a slot, and ignores tasks on down nodes', () => {
    const f = renderProgress({
      service: web(2), rollback: true, columns: WIDE, activeNodes: new Set(['n1']),
      tasks: [
        task('old', S, 1, 'n1', TaskState.TASK_STATE_FAILED, { desired: TaskState.TASK_STATE_SHUTDOWN, err: 'exit 1' }),
        task('new', S, 1, 'n1', TaskState.TASK_STATE_RUNNING),
        task('gone', S, 2, 'n9', TaskState.TASK_STATE_RUNNING),
      ],
    });
    assert.deepEqual(f.lines, ['overall progress: rolling back update: 1 out of 2 tasks', `1/2: running   ${FULL}`, '2/2:']);
  });

  it('is converged when every slot runs', () => {
    const f = renderProgress({ service: web(2), rollback: false, columns: WIDE, activeNodes: active, tasks: [task('a', S, 1, 'n1', TaskState.TASK_STATE_RUNNING), task('b', S, 2, 'n2', TaskState.TASK_STATE_RUNNING)] });
    assert.equal(f.converged, true);
  });

  it('counts a global service over the nodes that have its tasks, labelled by node', () => {
    const g = service(S, spec('agent', 'busybox', { $case: 'global', value: {} }));
    assert.deepEqual(renderProgress({ service: g, rollback: false, columns: WIDE, activeNodes: active, tasks: [] }).lines, ['overall progress: waiting for new tasks']);
    const f = renderProgress({ service: g, rollback: false, columns: 80, activeNodes: active, tasks: [task('a', S, 0, 'n1', TaskState.TASK_STATE_RUNNING), task('b', S, 0, 'n2', TaskState.TASK_STATE_ASSIGNED)] });
    assert.deepEqual(f.lines, ['overall progress: 1 out of 2 tasks', 'n1: running', 'n2: assigned']);
  });

  it('only draws the overall line above 20 replicas', () => {
    const f = renderProgress({ service: web(21), rollback: false, columns: WIDE, activeNodes: active, tasks: [] });
    assert.deepEqual(f.lines, ['overall progress: 0 out of 21 tasks']);
  });

  it('gives up on a slot whose restart policy allows no more attempts', () => {
    const s = web(1);
    s.spec!.task!.restart = { condition: RestartCondition.RESTART_CONDITION_ON_FAILURE, delayMs: 0, maxAttempts: 2, windowMs: 0 };
    const failed = (id: string, restarts: number, createdMs: number) => task(id, S, 1, 'n1', TaskState.TASK_STATE_FAILED, { err: 'exit 3', restartCount: restarts, createdMs });
    assert.equal(renderProgress({ service: s, rollback: false, columns: WIDE, activeNodes: active, tasks: [failed('a', 0, 1), failed('b', 1, 2)] }).failure, undefined);
    const f = renderProgress({ service: s, rollback: false, columns: WIDE, activeNodes: active, tasks: [failed('a', 0, 1), failed('b', 1, 2), failed('c', 2, 3)] });
    assert.equal(f.failure, "task web.1 failed (exit 3) and its restart policy allows no more attempts; see 'tswarm service ps web'");
    assert.equal(f.converged, false);
  });
});

describe('tswarm service create, waiting for convergence', () => {
  const fake = new FakeDaemon();
  before(() => fake.start());
  after(() => fake.stop());
  let svc: Service;
  let polls: number;
  beforeEach(() => {
    fake.reset();
    polls = 0;
    fake.handlers['createService'] = (req) => {
      svc = { ...web(2), spec: req.spec };
      return { service: svc };
    };
    fake.handlers['getService'] = () => ({ service: svc });
    fake.handlers['listNodes'] = () => ({ nodes: [node('n1', 'h1'), node('n2', 'h2')] });
    // First poll: one task starting; afterwards both running.
    fake.handlers['listTasks'] = () => ({
      tasks: polls++ === 0
        ? [task('a', S, 1, 'n1', TaskState.TASK_STATE_STARTING)]
        : [task('a', S, 1, 'n1', TaskState.TASK_STATE_RUNNING), task('b', S, 2, 'n2', TaskState.TASK_STATE_RUNNING)],
    });
  });

  it('redraws in place on a terminal and ends with "verify: Service converged"', async () => {
    const r = await fake.tswarm(['service', 'create', '--name', 'web', '--replicas', '2', '--update-monitor', '1ms', 'nginx'], { isTTY: true, columns: WIDE });
    assert.equal(r.code, 0, r.err);
    const frames = r.out.split(/\x1b\[\d+A\x1b\[J/); // eslint-disable-line no-control-regex
    assert.equal(frames[0], `${S}\noverall progress: 0 out of 2 tasks\n1/2: starting  [${'='.repeat(44)}>${' '.repeat(6)}]\n2/2:\n`);
    assert.equal(frames[frames.length - 1], `overall progress: 2 out of 2 tasks\n1/2: running   ${FULL}\n2/2: running   ${FULL}\nverify: Service converged\n`);
  });

  it('waits without drawing when stdout is not a terminal', async () => {
    const r = await fake.tswarm(['service', 'create', '--replicas', '2', '--update-monitor', '1ms', 'nginx']);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, `${S}\n`);
    assert.ok(polls >= 2);
  });

  it('fails with the update\'s pause reason', async () => {
    fake.handlers['getService'] = () => ({ service: { ...svc, updateStatus: { state: UpdateState.UPDATE_STATE_PAUSED, startedAtMs: 0, completedAtMs: 0, message: 'update paused due to failure or early termination of task a' } } });
    const r = await fake.tswarm(['service', 'create', 'nginx']);
    assert.deepEqual([r.code, r.err], [1, 'Error: service update paused: update paused due to failure or early termination of task a\n']);
  });

  it('does not wait with -d', async () => {
    const r = await fake.tswarm(['service', 'create', '-d', 'nginx'], { isTTY: true });
    assert.equal(r.out, `${S}\n`);
    assert.deepEqual(fake.calls.map((c) => c.method), ['createService']);
  });
});
