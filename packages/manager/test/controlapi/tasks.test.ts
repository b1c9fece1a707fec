import * as assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { TaskState } from '@tswarm/api';
import { tasksTable } from '../../src/tables.js';
import { INLINE_TASK_WRITES } from '../../src/controlapi/tasks.js';
import { addNode, addTask, harness, refused, spec, T0 } from './harness.js';

const R = TaskState.TASK_STATE_RUNNING;
const SHUT = TaskState.TASK_STATE_SHUTDOWN;

async function seeded() {
  const h = harness();
  await addNode(h, { id: 'n1', hostname: 'h1' });
  await addNode(h, { id: 'n2', hostname: 'h2' });
  const web = (await h.api.createService({ spec: spec({ name: 'web' }) })).service!;
  const db = (await h.api.createService({ spec: spec({ name: 'db' }) })).service!;
  await addTask(h, { id: 'tw1', serviceId: web.id, serviceName: 'web', slot: 1, nodeId: 'n1' });
  await addTask(h, { id: 'tw1old', serviceId: web.id, serviceName: 'web', slot: 1, nodeId: 'n1', desiredState: SHUT, meta: { createdAtMs: T0 - 1000 } });
  await addTask(h, { id: 'tw2', serviceId: web.id, serviceName: 'web', slot: 2, nodeId: 'n2' });
  await addTask(h, { id: 'td1', serviceId: db.id, serviceName: 'db', slot: 1, nodeId: 'n2' });
  return { h, web, db };
}

describe('control API: ListTasks / GetTask', () => {
  it('lists the tasks meant to run, ordered by service and slot', async () => {
    const { h } = await seeded();
    const { tasks } = await h.api.listTasks({ serviceId: '', nodeId: '', includeHistory: false });
    assert.deepEqual(tasks.map((t) => t.id), ['td1', 'tw1', 'tw2']);
    for (const t of tasks) assert.ok(t.meta!.version > 0);
  });

  it('includes history on request, newest first within a slot', async () => {
    const { h } = await seeded();
    const { tasks } = await h.api.listTasks({ serviceId: 'web', nodeId: '', includeHistory: true });
    assert.deepEqual(tasks.map((t) => t.id), ['tw1', 'tw1old', 'tw2']);
  });

  it('filters by service (name or ID) and by node (hostname or ID), together too', async () => {
    const { h, web } = await seeded();
    const ids = async (serviceId: string, nodeId: string) => (await h.api.listTasks({ serviceId, nodeId, includeHistory: false })).tasks.map((t) => t.id);
    assert.deepEqual(await ids(web.id, ''), ['tw1', 'tw2']);
    assert.deepEqual(await ids('', 'h2'), ['td1', 'tw2']);
    assert.deepEqual(await ids('web', 'n2'), ['tw2']);
  });

  it('answers NOT_FOUND for an unknown service or node filter', async () => {
    const { h } = await seeded();
    await refused(h, h.api.listTasks({ serviceId: 'nope', nodeId: '', includeHistory: false }), status.NOT_FOUND, 'service nope not found');
    await refused(h, h.api.listTasks({ serviceId: '', nodeId: 'h9', includeHistory: false }), status.NOT_FOUND, 'node h9 not found');
  });

  it('gets a task by ID or unique prefix', async () => {
    const { h } = await seeded();
    assert.equal((await h.api.getTask({ taskId: 'td1' })).task?.serviceName, 'db');
    assert.equal((await h.api.getTask({ taskId: 'td' })).task?.id, 'td1');
    await refused(h, h.api.getTask({ taskId: 'tw' }), status.INVALID_ARGUMENT, /^task tw is ambiguous/);
    await refused(h, h.api.getTask({ taskId: 'zz' }), status.NOT_FOUND, 'task zz not found');
  });
});

describe('control API: task writes beyond one transaction', () => {
  it('removes a service with more tasks than fit one transaction: the rest follow in batches', async () => {
    const h = harness();
    const s = (await h.api.createService({ spec: spec() })).service!;
    const n = INLINE_TASK_WRITES + 50;
    await h.store.batch(async (b) => {
      for (let i = 0; i < n; i++) {
        await b.update((tx) => tx.create(tasksTable, { ...tasksTemplate(s.id), id: `t${i}` }));
      }
    });
    await h.api.removeService({ serviceId: 'web' });
    const states = h.store.view((tx) => tx.find(tasksTable, 'byService', s.id).map((r) => r.object.desiredState));
    assert.equal(states.length, n);
    assert.ok(states.every((d) => d === TaskState.TASK_STATE_REMOVE));
  });
});

function tasksTemplate(serviceId: string) {
  return {
    id: '',
    meta: undefined,
    serviceId,
    serviceName: 'web',
    slot: 1,
    nodeId: '',
    spec: undefined,
    specVersion: 1,
    desiredState: R,
    status: undefined,
    networks: [],
    endpoint: undefined,
    restartCount: 0,
  };
}
