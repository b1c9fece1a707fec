import * as assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { AssignmentChange_Action as Action, AssignmentsMessage_Type as Type, TaskState, TaskStatus, type AssignmentsMessage } from '@tswarm/api';
import { ASSIGNMENT_BATCH_MS, agentVisibleChanged, inAssignmentSet, tasksTable } from '../../src/index.js';
import { Reader, editTask, newTask, openSession, putNode, putTasks, reportStatus, sleep, startHarness, type Harness } from './harness.js';

const ids = (m: AssignmentsMessage) => m.changes.map((c) => `${c.action === Action.ACTION_REMOVE ? '-' : '+'}${c.task!.id}`).sort();

describe('assignment set rules', () => {
  it('holds tasks from ASSIGNED until the manager wants them removed', () => {
    assert.equal(inAssignmentSet(newTask('t', 'n', TaskState.TASK_STATE_PENDING)), false);
    assert.equal(inAssignmentSet(newTask('t', 'n', TaskState.TASK_STATE_ASSIGNED)), true);
    assert.equal(inAssignmentSet(newTask('t', 'n', TaskState.TASK_STATE_FAILED)), true);
    assert.equal(inAssignmentSet({ ...newTask('t', 'n'), desiredState: TaskState.TASK_STATE_REMOVE }), false);
  });

  it('status is not agent-visible; spec and desired state are', () => {
    const t = newTask('t', 'n');
    assert.equal(agentVisibleChanged(t, { ...t, status: { ...t.status!, state: TaskState.TASK_STATE_RUNNING } }), false);
    assert.equal(agentVisibleChanged(t, { ...t, desiredState: TaskState.TASK_STATE_SHUTDOWN }), true);
    assert.equal(agentVisibleChanged(t, newTask('t', 'n', TaskState.TASK_STATE_ASSIGNED, 'nginx:2')), true);
  });
});

describe('dispatcher assignments', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  async function connect(nodeId = 'n1') {
    const s = await openSession(h, nodeId);
    const reader = new Reader(h.client.assignments({ sessionId: s.sessionId }, h.as(nodeId)));
    return { ...s, assignments: reader };
  }

  it('sends the complete set first: assigned tasks of this node only', async () => {
    h = await startHarness({
      seed: async (s) => {
        await putNode(s, 'n1');
        await putTasks(s, newTask('a', 'n1'), newTask('b', 'n1', TaskState.TASK_STATE_RUNNING), newTask('c', 'n2'));
        await putTasks(s, { ...newTask('gone', 'n1'), desiredState: TaskState.TASK_STATE_REMOVE });
      },
    });
    const { assignments } = await connect();
    const first = await assignments.nth(1);
    assert.equal(first.type, Type.TYPE_COMPLETE);
    assert.deepEqual(ids(first), ['+a', '+b']);
  });

  it('then incremental changes: new tasks, spec changes, desired REMOVE and deletes', async () => {
    h = await startHarness({ seed: async (s) => { await putNode(s, 'n1'); await putTasks(s, newTask('a', 'n1')); } });
    const { assignments } = await connect();
    await assignments.nth(1);

    await putTasks(h.store, newTask('b', 'n1'), newTask('other', 'n2'));
    const m2 = await assignments.nth(2);
    assert.equal(m2.type, Type.TYPE_INCREMENTAL);
    assert.deepEqual(ids(m2), ['+b']);

    await editTask(h.store, 'a', (t) => ({ ...t, spec: { ...t.spec!, container: { ...t.spec!.container!, image: 'nginx:2' } } }));
    const m3 = await assignments.nth(3);
    assert.deepEqual(ids(m3), ['+a']);
    assert.equal(m3.changes[0]!.task!.spec?.container?.image, 'nginx:2');

    await editTask(h.store, 'b', (t) => ({ ...t, desiredState: TaskState.TASK_STATE_REMOVE }));
    assert.deepEqual(ids(await assignments.nth(4)), ['-b']);

    await h.store.update((tx) => tx.delete(tasksTable, 'a'));
    assert.deepEqual(ids(await assignments.nth(5)), ['-a']);
  });

  it("stays quiet on the agent's own status reports", async () => {
    h = await startHarness({ seed: async (s) => { await putNode(s, 'n1'); await putTasks(s, newTask('a', 'n1')); } });
    const { sessionId, assignments } = await connect();
    await assignments.nth(1);
    for (const state of [TaskState.TASK_STATE_ACCEPTED, TaskState.TASK_STATE_PREPARING, TaskState.TASK_STATE_RUNNING]) {
      await reportStatus(h, 'n1', sessionId, [{ taskId: 'a', status: TaskStatus.create({ state }) }]);
    }
    await sleep(ASSIGNMENT_BATCH_MS * 5);
    assert.equal(assignments.msgs.length, 1);
  });

  it('merges a burst of changes into at most two messages (its first change goes out at once)', async () => {
    h = await startHarness({ seed: async (s) => putNode(s, 'n1') });
    const { assignments } = await connect();
    await assignments.nth(1);
    // Separate transactions, back to back (the scheduler committing in batches).
    for (let i = 0; i < 10; i++) await putTasks(h.store, newTask(`t${i}`, 'n1'));
    await assignments.nth(2);
    await sleep(ASSIGNMENT_BATCH_MS * 3);
    const burst = assignments.msgs.slice(1);
    assert.ok(burst.length <= 2, `${burst.length} messages`);
    assert.equal(burst.reduce((n, m) => n + m.changes.length, 0), 10);
  });

  it('a task that becomes ASSIGNED to the node is sent then, not while PENDING', async () => {
    h = await startHarness({ seed: async (s) => putNode(s, 'n1') });
    const { assignments } = await connect();
    await assignments.nth(1);
    await putTasks(h.store, newTask('p', 'n1', TaskState.TASK_STATE_PENDING));
    await sleep(ASSIGNMENT_BATCH_MS * 3);
    assert.equal(assignments.msgs.length, 1);
    await editTask(h.store, 'p', (t) => ({ ...t, status: { ...t.status!, state: TaskState.TASK_STATE_ASSIGNED } }));
    assert.deepEqual(ids(await assignments.nth(2)), ['+p']);
  });

  it('needs a current session, and ends with the session', async () => {
    h = await startHarness({ seed: async (s) => putNode(s, 'n1') });
    const bad = new Reader(h.client.assignments({ sessionId: 'nope' }, h.as('n1')));
    assert.equal((await bad.ended())?.code, grpc.status.NOT_FOUND);
    const { assignments } = await connect();
    await assignments.nth(1);
    await openSession(h, 'n1'); // replaces the session the stream belongs to
    assert.equal((await assignments.ended())?.code, grpc.status.ABORTED);
  });
});
