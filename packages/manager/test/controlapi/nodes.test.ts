import * as assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { NodeAvailability, NodeRole, NodeSpec, NodeState, TaskState } from '@tswarm/api';
import { nodesTable, tasksTable } from '../../src/tables.js';
import { addNode, addTask, harness, refused, type Harness } from './harness.js';

const M = NodeRole.NODE_ROLE_MANAGER;
const W = NodeRole.NODE_ROLE_WORKER;
const nodeSpec = (desiredRole = W, availability = NodeAvailability.NODE_AVAILABILITY_ACTIVE, labels: Record<string, string> = {}) =>
  NodeSpec.fromPartial({ desiredRole, availability, labels });

/** Three managers m1 (local, leader), m2, m3 and a worker w1. */
async function threeManagers(h: Harness, reachable = { m2: true, m3: true }): Promise<void> {
  await addNode(h, { id: 'm1', hostname: 'h1', manager: true });
  await addNode(h, { id: 'm2', hostname: 'h2', manager: true });
  await addNode(h, { id: 'm3', hostname: 'h3', manager: true });
  await addNode(h, { id: 'w1', hostname: 'h4' });
  h.raft.list = [
    { id: 'm1', addr: '10.0.0.1:2377' },
    { id: 'm2', addr: '10.0.0.2:2377', reachable: reachable.m2 },
    { id: 'm3', addr: '10.0.0.3:2377', reachable: reachable.m3 },
  ];
  h.raft.leaderId = 'm1';
}

describe('control API: ListNodes / GetNode', () => {
  it('lists nodes with the live manager status from Raft', async () => {
    const h = harness();
    await threeManagers(h, { m2: true, m3: false });
    const { nodes } = await h.api.listNodes({});
    assert.deepEqual(nodes.map((n) => n.description?.hostname), ['h1', 'h2', 'h3', 'h4']);
    assert.deepEqual(nodes[0]!.managerStatus, { raftId: 'm1', addr: '10.0.0.1:2377', leader: true, reachability: 'reachable' });
    assert.equal(nodes[1]!.managerStatus?.reachability, 'reachable');
    assert.equal(nodes[2]!.managerStatus?.reachability, 'unreachable');
    assert.equal(nodes[3]!.managerStatus, undefined);
    for (const n of nodes) assert.ok(n.meta!.version > 0);
  });

  it('on a follower, shows the manager status as the leader sees it when the leader answers, its own view otherwise', async () => {
    const h = harness();
    await threeManagers(h);
    // m1 is local and a follower of m3: it hears only from m3, so it cannot tell about m2.
    h.raft.list = [
      { id: 'm1', addr: '10.0.0.1:2377', reachable: true },
      { id: 'm2', addr: '10.0.0.2:2377' },
      { id: 'm3', addr: '10.0.0.3:2377', reachable: true },
    ];
    h.raft.leaderId = 'm3';
    const statuses = async () => (await h.api.listNodes({})).nodes.map((n) => [n.managerStatus?.reachability, n.managerStatus?.leader]);
    assert.deepEqual(await statuses(), [['reachable', false], ['unknown', false], ['reachable', true], [undefined, undefined]]);
    h.raft.leaderList = [
      { id: 'm1', addr: '10.0.0.1:2377', reachable: true },
      { id: 'm2', addr: '10.0.0.2:2377', reachable: true },
      { id: 'm3', addr: '10.0.0.3:2377', reachable: true },
    ];
    assert.deepEqual(await statuses(), [['reachable', false], ['reachable', false], ['reachable', true], [undefined, undefined]]);
    h.raft.leaderList[1] = { id: 'm2', addr: '10.0.0.2:2377', reachable: false };
    assert.equal((await h.api.getNode({ nodeId: 'h2' })).node?.managerStatus?.reachability, 'unreachable');
  });

  it('finds a node by ID, hostname and unique ID prefix', async () => {
    const h = harness();
    await addNode(h, { id: 'abc0000000000000000000001', hostname: 'alpha' });
    await addNode(h, { id: 'abd0000000000000000000002', hostname: 'beta' });
    for (const ref of ['abc0000000000000000000001', 'alpha', 'ALPHA', 'abc']) {
      assert.equal((await h.api.getNode({ nodeId: ref })).node?.id, 'abc0000000000000000000001', ref);
    }
    await refused(h, h.api.getNode({ nodeId: 'ab' }), status.INVALID_ARGUMENT, /^node ab is ambiguous \(2 IDs start with it\); give more characters/);
    await refused(h, h.api.getNode({ nodeId: 'gamma' }), status.NOT_FOUND, 'node gamma not found');
  });

  it('refuses a hostname two nodes share', async () => {
    const h = harness();
    await addNode(h, { id: 'n1', hostname: 'dup' });
    await addNode(h, { id: 'n2', hostname: 'dup' });
    await refused(h, h.api.getNode({ nodeId: 'dup' }), status.INVALID_ARGUMENT, /^node name dup is ambiguous \(2 nodes have it\); use the node ID/);
  });
});

describe('control API: UpdateNode', () => {
  it('sets availability and labels', async () => {
    const h = harness();
    await addNode(h, { id: 'n1', hostname: 'h1' });
    const r = await h.api.updateNode({ nodeId: 'h1', nodeVersion: 0, spec: nodeSpec(W, NodeAvailability.NODE_AVAILABILITY_DRAIN, { zone: 'a' }) });
    assert.equal(r.node?.spec?.availability, NodeAvailability.NODE_AVAILABILITY_DRAIN);
    assert.deepEqual(r.node?.spec?.labels, { zone: 'a' });
    assert.equal(r.node?.meta?.version, h.store.version);
    assert.equal(h.store.view((tx) => tx.get(nodesTable, 'n1'))?.object.spec?.availability, NodeAvailability.NODE_AVAILABILITY_DRAIN);
  });

  it('checks the node version when one is given', async () => {
    const h = harness();
    await addNode(h, { id: 'n1' });
    const v = (await h.api.getNode({ nodeId: 'n1' })).node!.meta!.version;
    await h.api.updateNode({ nodeId: 'n1', nodeVersion: v, spec: nodeSpec(W, NodeAvailability.NODE_AVAILABILITY_PAUSE) });
    await refused(h, h.api.updateNode({ nodeId: 'n1', nodeVersion: v, spec: nodeSpec() }), status.ABORTED, /^update out of sequence: the node was changed/);
  });

  it('refuses an unknown availability or role', async () => {
    const h = harness();
    await addNode(h, { id: 'n1' });
    await refused(h, h.api.updateNode({ nodeId: 'n1', nodeVersion: 0, spec: nodeSpec(W, 9 as NodeAvailability) }), status.INVALID_ARGUMENT, /invalid node availability 9/);
    await refused(h, h.api.updateNode({ nodeId: 'n1', nodeVersion: 0, spec: nodeSpec(5 as NodeRole) }), status.INVALID_ARGUMENT, /invalid node role 5/);
    await refused(h, h.api.updateNode({ nodeId: 'n1', nodeVersion: 0, spec: undefined }), status.INVALID_ARGUMENT, /node spec is required/);
  });

  it('promotes by setting the desired role', async () => {
    const h = harness();
    await addNode(h, { id: 'm1', manager: true });
    await addNode(h, { id: 'w1' });
    const r = await h.api.updateNode({ nodeId: 'w1', nodeVersion: 0, spec: nodeSpec(M) });
    assert.equal(r.node?.spec?.desiredRole, M);
    assert.equal(r.node?.role, W, 'the role reconciler changes the role, not the API');
  });

  it('demotes a manager when a reachable majority remains', async () => {
    const h = harness();
    await threeManagers(h);
    const r = await h.api.updateNode({ nodeId: 'h3', nodeVersion: 0, spec: nodeSpec(W) });
    assert.equal(r.node?.spec?.desiredRole, W);
    assert.deepEqual(h.raft.removed, [], 'membership is the role reconciler\'s job');
  });

  it('refuses to demote the last manager', async () => {
    const h = harness();
    await addNode(h, { id: 'm1', hostname: 'h1', manager: true });
    await addNode(h, { id: 'w1', hostname: 'h2' });
    await refused(h, h.api.updateNode({ nodeId: 'h1', nodeVersion: 0, spec: nodeSpec(W) }), status.FAILED_PRECONDITION, /^cannot demote the last manager of the swarm/);
  });

  it('counts a manager already being demoted as gone', async () => {
    const h = harness();
    await addNode(h, { id: 'm1', hostname: 'h1', manager: true });
    await addNode(h, { id: 'm2', hostname: 'h2', manager: true, desiredManager: false });
    await refused(h, h.api.updateNode({ nodeId: 'h1', nodeVersion: 0, spec: nodeSpec(W) }), status.FAILED_PRECONDITION, /last manager/);
  });

  it('refuses a demotion that would leave no reachable quorum', async () => {
    const h = harness();
    await threeManagers(h, { m2: true, m3: false });
    // Without m2 only m1 (of m1, m3) is reachable: 1 < 2.
    await refused(
      h,
      h.api.updateNode({ nodeId: 'h2', nodeVersion: 0, spec: nodeSpec(W) }),
      status.FAILED_PRECONDITION,
      /^cannot demote h2: only 1 of the 2 remaining managers are reachable and a quorum needs 2/,
    );
    // Demoting the unreachable one is fine: m1 and m2 remain, both reachable.
    await h.api.updateNode({ nodeId: 'h3', nodeVersion: 0, spec: nodeSpec(W) });
  });
});

describe('control API: RemoveNode', () => {
  it('removes a DOWN worker and orphans its unfinished tasks', async () => {
    const h = harness();
    await addNode(h, { id: 'm1', manager: true });
    await addNode(h, { id: 'w1', hostname: 'h2', state: NodeState.NODE_STATE_DOWN });
    await addTask(h, { id: 't1', serviceId: 's', nodeId: 'w1' });
    await addTask(h, { id: 't2', serviceId: 's', nodeId: 'w1', status: { state: TaskState.TASK_STATE_FAILED } });
    await addTask(h, { id: 't3', serviceId: 's', nodeId: 'm1' });
    const before = h.store.version;
    await h.api.removeNode({ nodeId: 'h2', force: false });
    assert.equal(h.store.version, before + 1, 'one Raft entry');
    h.store.view((tx) => {
      assert.equal(tx.get(nodesTable, 'w1'), undefined);
      const t1 = tx.get(tasksTable, 't1')!.object;
      assert.equal(t1.status?.state, TaskState.TASK_STATE_ORPHANED);
      assert.match(t1.status!.message, /node h2, which was removed/);
      assert.equal(t1.desiredState, TaskState.TASK_STATE_RUNNING, 'the orchestrator replaces it like a dead task');
      assert.equal(tx.get(tasksTable, 't2')!.object.status?.state, TaskState.TASK_STATE_FAILED);
      assert.equal(tx.get(tasksTable, 't3')!.object.status?.state, TaskState.TASK_STATE_RUNNING);
    });
  });

  it("refuses a node that is not down, in Docker's words, unless forced", async () => {
    const h = harness();
    await addNode(h, { id: 'w1', hostname: 'h2' });
    await addNode(h, { id: 'w2', hostname: 'h3', state: NodeState.NODE_STATE_DISCONNECTED });
    await refused(h, h.api.removeNode({ nodeId: 'h2', force: false }), status.FAILED_PRECONDITION, /^node h2 is not down and can't be removed/);
    await refused(h, h.api.removeNode({ nodeId: 'h3', force: false }), status.FAILED_PRECONDITION, /^node h3 is not down/);
    await h.api.removeNode({ nodeId: 'h2', force: true });
    assert.equal(h.store.view((tx) => tx.get(nodesTable, 'w1')), undefined);
  });

  it('refuses a manager, even with force', async () => {
    const h = harness();
    await threeManagers(h);
    await refused(
      h,
      h.api.removeNode({ nodeId: 'h2', force: true }),
      status.FAILED_PRECONDITION,
      'node h2 is a cluster manager and is a member of the raft cluster. It must be demoted to worker before removal',
    );
  });

  it('refuses a node still in Raft while its demotion is under way', async () => {
    const h = harness();
    await threeManagers(h);
    await h.api.updateNode({ nodeId: 'h3', nodeVersion: 0, spec: nodeSpec(W) });
    await refused(h, h.api.removeNode({ nodeId: 'h3', force: true }), status.FAILED_PRECONDITION, /^node h3 is being demoted/);
  });

  it('answers NOT_FOUND for an unknown node', async () => {
    const h = harness();
    await refused(h, h.api.removeNode({ nodeId: 'h9', force: true }), status.NOT_FOUND, 'node h9 not found');
  });
});
