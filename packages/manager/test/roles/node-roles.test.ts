// The leader's half of promote/demote (node-roles.ts): who leaves Raft, who hands over
// leadership first, and how node.role / managerStatus follow Raft membership.
import * as assert from 'node:assert/strict';
import { Node, NodeRole } from '@tswarm/api';
import { planRoleChanges, RoleMember } from '../../src/index.js';

const M = NodeRole.NODE_ROLE_MANAGER;
const W = NodeRole.NODE_ROLE_WORKER;

function node(id: string, desiredRole: NodeRole, role: NodeRole, managerAddr?: string): Node {
  return Node.fromPartial({
    id, role, spec: { desiredRole },
    managerStatus: managerAddr ? { raftId: id, addr: managerAddr, reachability: 'reachable' } : undefined,
  });
}
const member = (id: string, voter = true, reachable: boolean | undefined = true): RoleMember => ({ id, address: `${id}:2377`, voter, reachable });

describe('role changes the leader makes (promote/demote)', () => {
  it('does nothing when every node already is what it should be', () => {
    const nodes = [node('a', M, M, 'a:2377'), node('b', W, W)];
    assert.deepEqual(planRoleChanges(nodes, [member('a')], 'a'), []);
  });

  it('removes a demoted follower from Raft', () => {
    const nodes = [node('a', M, M, 'a:2377'), node('b', W, M, 'b:2377')];
    assert.deepEqual(planRoleChanges(nodes, [member('a'), member('b')], 'a'), [{ kind: 'remove', nodeId: 'b' }]);
  });

  it('hands leadership to a reachable voter before a demoted leader leaves', () => {
    const nodes = [node('a', W, M, 'a:2377'), node('b', M, M, 'b:2377'), node('c', M, M, 'c:2377')];
    const members = [member('a'), member('b', true, false), member('c')];
    assert.deepEqual(planRoleChanges(nodes, members, 'a'), [{ kind: 'transfer', nodeId: 'a', to: 'c' }]);
  });

  it('never hands leadership to a learner; says why it cannot go on', () => {
    const nodes = [node('a', W, M, 'a:2377'), node('b', M, W)];
    const [change] = planRoleChanges(nodes, [member('a'), member('b', false)], 'a');
    assert.equal(change?.kind, 'blocked');
  });

  it('records a demoted node that left Raft as a worker', () => {
    const nodes = [node('a', M, M, 'a:2377'), node('b', W, M, 'b:2377')];
    assert.deepEqual(planRoleChanges(nodes, [member('a')], 'a'), [{ kind: 'record-worker', nodeId: 'b' }]);
  });

  it('leaves a promoted node that has not joined Raft yet to join by itself', () => {
    const nodes = [node('a', M, M, 'a:2377'), node('b', M, W)];
    assert.deepEqual(planRoleChanges(nodes, [member('a')], 'a'), []);
  });

  it('records a promoted node as a manager once it votes, not while it is a learner', () => {
    const nodes = [node('a', M, M, 'a:2377'), node('b', M, W)];
    assert.deepEqual(planRoleChanges(nodes, [member('a'), member('b', false)], 'a'), []);
    assert.deepEqual(planRoleChanges(nodes, [member('a'), member('b')], 'a'), [{ kind: 'record-manager', nodeId: 'b', addr: 'b:2377' }]);
  });
});
