import * as assert from 'node:assert/strict';
import { AssignmentsMessage_Type as Type, Network, TaskState, type Task } from '@tswarm/api';
import { networksTable } from '../../src/index.js';
import { Reader, editTask, newTask, openSession, putNode, putTasks, startHarness, type Harness } from './harness.js';

const APP = Network.fromPartial({ id: 'app', spec: { name: 'app', driver: 'overlay' }, vni: 4097, ipam: { subnet: '10.9.0.0/24', gateway: '10.9.0.1' } });
const OTHER = Network.fromPartial({ id: 'other', spec: { name: 'other', driver: 'overlay' }, vni: 4098, ipam: { subnet: '10.9.1.0/24', gateway: '10.9.1.1' } });

function onNetwork(t: Task, network: Network, addr: string): Task {
  return { ...t, networks: [{ networkId: network.id, addresses: [addr], aliases: [], network }] };
}

describe('dispatcher network views', () => {
  let h: Harness;
  afterEach(async () => h?.close());

  it('the complete set carries the node\'s view: its networks and every endpoint on them, on any node', async () => {
    h = await startHarness({
      seed: async (s) => {
        await putNode(s, 'n1');
        await putNode(s, 'n2');
        await s.update((tx) => { tx.create(networksTable, APP); tx.create(networksTable, OTHER); });
        await putTasks(s,
          onNetwork(newTask('a', 'n1', TaskState.TASK_STATE_RUNNING), APP, '10.9.0.3/24'),
          onNetwork(newTask('b', 'n2', TaskState.TASK_STATE_RUNNING), APP, '10.9.0.4/24'),
          onNetwork(newTask('c', 'n2', TaskState.TASK_STATE_RUNNING), OTHER, '10.9.1.3/24'));
      },
    });
    const s = await openSession(h, 'n1');
    const reader = new Reader(h.client.assignments({ sessionId: s.sessionId }, h.as('n1')));
    const first = await reader.nth(1);
    assert.equal(first.type, Type.TYPE_COMPLETE);
    const view = first.networkView!;
    assert.deepEqual(view.networks.map((n) => n.id), ['app'], 'not "other": no task of n1 is on it');
    assert.deepEqual(view.endpoints.map((e) => [e.taskId, e.nodeId, e.addr, e.active]), [['a', 'n1', '10.9.0.3/24', true], ['b', 'n2', '10.9.0.4/24', true]]);
    assert.deepEqual(view.nodes.map((n) => n.nodeId), ['n1', 'n2']);
  });

  it('an endpoint carries the VNI its task reported reaching its container directly on that network, else 0', async () => {
    const receiving = (t: Task): Task => ({ ...t, status: { ...t.status!, receive: [{ networkId: 'other', vni: 0xf00005 }, { networkId: 'app', vni: 0xf00007 }] } });
    h = await startHarness({
      seed: async (s) => {
        await putNode(s, 'n1');
        await putNode(s, 'n2');
        await s.update((tx) => { tx.create(networksTable, APP); });
        await putTasks(s,
          onNetwork(newTask('a', 'n1', TaskState.TASK_STATE_RUNNING), APP, '10.9.0.3/24'),
          receiving(onNetwork(newTask('b', 'n2', TaskState.TASK_STATE_RUNNING), APP, '10.9.0.4/24')));
      },
    });
    const s = await openSession(h, 'n1');
    const reader = new Reader(h.client.assignments({ sessionId: s.sessionId }, h.as('n1')));
    const view = (await reader.nth(1)).networkView!;
    assert.deepEqual(view.endpoints.map((e) => [e.taskId, e.vni]), [['a', 0], ['b', 0xf00007]]);
  });

  it('a remote task leaving RUNNING is sent at once as a view change alone', async () => {
    h = await startHarness({
      seed: async (s) => {
        await putNode(s, 'n1');
        await s.update((tx) => tx.create(networksTable, APP));
        await putTasks(s,
          onNetwork(newTask('a', 'n1', TaskState.TASK_STATE_RUNNING), APP, '10.9.0.3/24'),
          onNetwork(newTask('b', 'n2', TaskState.TASK_STATE_RUNNING), APP, '10.9.0.4/24'));
      },
    });
    const s = await openSession(h, 'n1');
    const reader = new Reader(h.client.assignments({ sessionId: s.sessionId }, h.as('n1')));
    await reader.nth(1);
    await editTask(h.store, 'b', (t) => ({ ...t, desiredState: TaskState.TASK_STATE_SHUTDOWN }));
    const next = await reader.nth(2);
    assert.deepEqual(next.changes, [], 'b is not n1\'s task');
    assert.deepEqual(next.networkView!.endpoints.map((e) => [e.taskId, e.active]), [['a', true], ['b', false]]);
    await editTask(h.store, 'b', (t) => ({ ...t, status: { ...t.status!, state: TaskState.TASK_STATE_SHUTDOWN } }));
    const last = await reader.nth(3);
    assert.deepEqual(last.networkView!.endpoints.map((e) => e.taskId), ['a'], 'an ended task holds no endpoint');
  });
});
