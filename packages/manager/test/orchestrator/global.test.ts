import { strict as assert } from 'node:assert';
import { Node, NodeAvailability, NodeState, Task, TaskState } from '@tswarm/api';
import { reconcileGlobal } from '../../src/index.js';
import { apply, ids, meant, node, report, service, ServiceOpts } from './fixtures.js';

const { TASK_STATE_RUNNING: RUNNING, TASK_STATE_SHUTDOWN: SHUTDOWN, TASK_STATE_FAILED: FAILED } = TaskState;

function loop(o: ServiceOpts = {}) {
  const svc = service('agent', { global: true, ...o });
  const newId = ids('g');
  let tasks: Task[] = [];
  return {
    get tasks() {
      return tasks;
    },
    step(nodes: Node[], nowMs: number) {
      const a = reconcileGlobal(svc, tasks, nodes, nowMs, newId);
      tasks = apply(tasks, a);
      return a;
    },
    /** Every task meant to run is RUNNING; those told to stop have stopped. */
    run(nowMs: number) {
      tasks = tasks.map((t) => ({
        ...t,
        status: { ...t.status!, state: t.desiredState <= RUNNING ? RUNNING : SHUTDOWN, timestampMs: nowMs },
      }));
    },
    fail(id: string, nowMs: number) {
      tasks = report(tasks, id, FAILED, nowMs);
    },
  };
}

const onNodes = (tasks: Task[]): string[] => meant(tasks).map((t) => t.nodeId).sort();

describe('global orchestrator', () => {
  it('runs one task per ready, active node, with the node preset and slot 0', () => {
    const l = loop();
    const a = l.step([node('n1'), node('n2'), node('n3', { state: NodeState.NODE_STATE_DOWN })], 0);
    assert.deepEqual(a.create.map((t) => [t.nodeId, t.slot, t.desiredState]), [['n1', 0, RUNNING], ['n2', 0, RUNNING]]);
    assert.deepEqual(l.step([node('n1'), node('n2')], 1).create, [], 'idempotent');
  });

  it('skips drained and paused nodes and nodes that do not match the constraints', () => {
    const l = loop({ constraints: ['node.labels.gpu==yes'] });
    const a = l.step([
      node('n1', { labels: { gpu: 'yes' } }),
      node('n2', { labels: { gpu: 'yes' }, availability: NodeAvailability.NODE_AVAILABILITY_DRAIN }),
      node('n3', { labels: { gpu: 'yes' }, availability: NodeAvailability.NODE_AVAILABILITY_PAUSE }),
      node('n4'),
    ], 0);
    assert.deepEqual(a.create.map((t) => t.nodeId), ['n1']);
  });

  it('starts a task on a node that joins', () => {
    const l = loop();
    l.step([node('n1')], 0);
    l.run(1);
    assert.deepEqual(l.step([node('n1'), node('n2')], 2).create.map((t) => t.nodeId), ['n2']);
  });

  it('shuts down the task of a node that is drained, and does not replace it', () => {
    const l = loop();
    l.step([node('n1'), node('n2')], 0);
    l.run(1);
    const a = l.step([node('n1'), node('n2', { availability: NodeAvailability.NODE_AVAILABILITY_DRAIN })], 2);
    assert.deepEqual(a.update.map((t) => [t.nodeId, t.desiredState]), [['n2', SHUTDOWN]]);
    assert.deepEqual(a.create, []);
    assert.deepEqual(onNodes(l.tasks), ['n1']);
  });

  it('keeps tasks on a paused node but starts none there', () => {
    const l = loop();
    l.step([node('n1')], 0);
    l.run(1);
    const paused = [node('n1', { availability: NodeAvailability.NODE_AVAILABILITY_PAUSE })];
    assert.deepEqual(l.step(paused, 2).update, []);
    l.fail('g1', 3);
    assert.deepEqual(l.step(paused, 4).create, [], 'no restart on a paused node');
    assert.deepEqual(l.step([node('n1')], 5).create.map((t) => [t.nodeId, t.restartCount]), [['n1', 1]]);
  });

  it('restarts a failed task on the same node', () => {
    const l = loop();
    l.step([node('n1'), node('n2')], 0);
    l.run(1);
    l.fail('g2', 2);
    const a = l.step([node('n1'), node('n2')], 3);
    assert.deepEqual(a.create.map((t) => [t.nodeId, t.restartCount]), [['n2', 1]]);
    assert.deepEqual(a.update.map((t) => [t.id, t.desiredState]), [['g2', SHUTDOWN]]);
  });

  it('forgets the tasks of a node that left the cluster once they stopped', () => {
    const l = loop();
    l.step([node('n1'), node('n2')], 0);
    l.run(1);
    const a = l.step([node('n1')], 2);
    assert.deepEqual(a.update.map((t) => [t.nodeId, t.desiredState]), [['n2', SHUTDOWN]]);
    assert.deepEqual(l.step([node('n1')], 3).delete.map((t) => t.nodeId), ['n2'], 'its node is gone: nothing runs it');
    assert.deepEqual(l.tasks.map((t) => t.nodeId), ['n1']);
  });
});
