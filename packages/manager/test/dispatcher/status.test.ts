import * as assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { TaskState, TaskStatus, type TaskStatusUpdate } from '@tswarm/api';
import { STATUS_FLUSH_MS } from '../../src/index.js';
import { editTask, newTask, openSession, putNode, putTasks, reportStatus, startHarness, taskOf, type Harness } from './harness.js';

const report = (taskId: string, state: TaskState, message = ''): TaskStatusUpdate => ({
  taskId,
  status: TaskStatus.create({ state, message }),
});

describe('dispatcher task status', () => {
  let h: Harness;
  afterEach(async () => h?.close());
  const send = (sessionId: string, nodeId: string, updates: TaskStatusUpdate[]) =>
    reportStatus(h, nodeId, sessionId, updates);

  it('batches concurrent reports into a few store transactions, committed before the RPC returns', async () => {
    const tasks = Array.from({ length: 50 }, (_, i) => newTask(`t${i}`, i % 2 ? 'n1' : 'n2'));
    h = await startHarness({ seed: async (s) => { await putNode(s, 'n1'); await putNode(s, 'n2'); await putTasks(s, ...tasks); } });
    const a = await openSession(h, 'n1');
    const b = await openSession(h, 'n2');
    const before = h.proposer.lastIndex;
    const calls: Promise<unknown>[] = [];
    for (const t of tasks) {
      const s = t.nodeId === 'n1' ? a : b;
      calls.push(send(s.sessionId, t.nodeId, [report(t.id, TaskState.TASK_STATE_RUNNING, 'started')]));
    }
    await Promise.all(calls);
    const entries = h.proposer.lastIndex - before;
    assert.ok(entries >= 1 && entries <= 2, `50 reports took ${entries} Raft entries`);
    for (const t of tasks) assert.equal(taskOf(h.store, t.id)?.status?.state, TaskState.TASK_STATE_RUNNING);
    assert.ok(taskOf(h.store, 't1')!.status!.timestampMs > 0, 'a missing timestamp is filled in');
  });

  it('commits a report after a quiet period at once, and the next one no sooner than a flush period after', async () => {
    h = await startHarness({ seed: async (s) => { await putNode(s, 'n1'); await putTasks(s, newTask('a', 'n1')); } });
    const { sessionId } = await openSession(h, 'n1');
    await new Promise((r) => setTimeout(r, STATUS_FLUSH_MS)); // the session's own writes are a period behind
    const t0 = Date.now();
    await send(sessionId, 'n1', [report('a', TaskState.TASK_STATE_ACCEPTED)]);
    const first = Date.now() - t0;
    assert.ok(first < STATUS_FLUSH_MS / 2, `an isolated report took ${first} ms`);
    await send(sessionId, 'n1', [report('a', TaskState.TASK_STATE_PREPARING)]);
    assert.ok(Date.now() - t0 >= STATUS_FLUSH_MS - 10, 'the second flush waited for the period');
    assert.equal(taskOf(h.store, 'a')?.status?.state, TaskState.TASK_STATE_PREPARING);
  });

  it('never moves a task backwards, in one call, across calls, or against the store', async () => {
    h = await startHarness({ seed: async (s) => { await putNode(s, 'n1'); await putTasks(s, newTask('a', 'n1'), newTask('b', 'n1')); } });
    const { sessionId } = await openSession(h, 'n1');
    await Promise.all([
      send(sessionId, 'n1', [report('a', TaskState.TASK_STATE_RUNNING), report('b', TaskState.TASK_STATE_RUNNING)]),
      send(sessionId, 'n1', [report('a', TaskState.TASK_STATE_PREPARING)]), // queued later, older
    ]);
    assert.equal(taskOf(h.store, 'a')?.status?.state, TaskState.TASK_STATE_RUNNING);
    await send(sessionId, 'n1', [report('b', TaskState.TASK_STATE_STARTING)]);
    assert.equal(taskOf(h.store, 'b')?.status?.state, TaskState.TASK_STATE_RUNNING);
    // Forward, and same state with news, are taken.
    await send(sessionId, 'n1', [report('b', TaskState.TASK_STATE_RUNNING, 'healthy'), report('a', TaskState.TASK_STATE_FAILED, 'exit 1')]);
    assert.equal(taskOf(h.store, 'b')?.status?.message, 'healthy');
    assert.equal(taskOf(h.store, 'a')?.status?.state, TaskState.TASK_STATE_FAILED);
    // Manager-only states are not an agent's to report.
    await send(sessionId, 'n1', [report('a', TaskState.TASK_STATE_REMOVE)]);
    assert.equal(taskOf(h.store, 'a')?.status?.state, TaskState.TASK_STATE_FAILED);
  });

  it('a status the orchestrator advanced meanwhile is not overwritten by an older report', async () => {
    h = await startHarness({ seed: async (s) => { await putNode(s, 'n1'); await putTasks(s, newTask('a', 'n1')); } });
    const { sessionId } = await openSession(h, 'n1');
    const pending = send(sessionId, 'n1', [report('a', TaskState.TASK_STATE_RUNNING)]);
    await editTask(h.store, 'a', (t) => ({ ...t, status: { ...t.status!, state: TaskState.TASK_STATE_SHUTDOWN, message: 'by orchestrator' } }));
    await pending;
    assert.equal(taskOf(h.store, 'a')?.status?.state, TaskState.TASK_STATE_SHUTDOWN);
  });

  it('re-reads and retries when another writer changed the task between read and commit', async () => {
    h = await startHarness({ seed: async (s) => { await putNode(s, 'n1'); await putTasks(s, newTask('a', 'n1')); } });
    const { sessionId } = await openSession(h, 'n1');
    // The orchestrator's write lands after the batch read task a, before its entry applies.
    h.proposer.before = () => editTask(h.store, 'a', (t) => ({ ...t, desiredState: TaskState.TASK_STATE_SHUTDOWN }));
    const before = h.proposer.proposals;
    await send(sessionId, 'n1', [report('a', TaskState.TASK_STATE_RUNNING)]);
    const a = taskOf(h.store, 'a')!;
    assert.equal(a.status?.state, TaskState.TASK_STATE_RUNNING, 'the report survived the conflict');
    assert.equal(a.desiredState, TaskState.TASK_STATE_SHUTDOWN, "the other writer's change survived too");
    assert.equal(h.proposer.proposals - before, 3, 'batch, competing write, retried batch');
  });

  it("refuses a report on another node's task, and one without a current session", async () => {
    h = await startHarness({ seed: async (s) => { await putNode(s, 'n1'); await putTasks(s, newTask('theirs', 'n2')); } });
    const { sessionId } = await openSession(h, 'n1');
    await assert.rejects(send(sessionId, 'n1', [report('theirs', TaskState.TASK_STATE_RUNNING)]), { code: grpc.status.PERMISSION_DENIED });
    assert.equal(taskOf(h.store, 'theirs')?.status?.state, TaskState.TASK_STATE_ASSIGNED);
    await assert.rejects(send('stale', 'n1', []), { code: grpc.status.NOT_FOUND });
  });

  it('ignores reports on tasks that no longer exist', async () => {
    h = await startHarness({ seed: async (s) => putNode(s, 'n1') });
    const { sessionId } = await openSession(h, 'n1');
    await send(sessionId, 'n1', [report('deleted', TaskState.TASK_STATE_RUNNING)]);
  });

  it('stop() fails reports still queued with UNAVAILABLE, so the agent resends them elsewhere', async () => {
    h = await startHarness({ seed: async (s) => { await putNode(s, 'n1'); await putTasks(s, newTask('a', 'n1')); } });
    const { sessionId } = await openSession(h, 'n1');
    const pending = send(sessionId, 'n1', [report('a', TaskState.TASK_STATE_RUNNING)]);
    await new Promise((r) => setTimeout(r, 20));
    h.dispatcher.stop();
    await assert.rejects(pending, { code: grpc.status.UNAVAILABLE });
    assert.equal(taskOf(h.store, 'a')?.status?.state, TaskState.TASK_STATE_ASSIGNED);
  });
});
