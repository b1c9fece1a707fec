// The node's half of promote/demote (role-plan.ts): certificate first on promotion, Raft
// removal first on demotion.
import { strict as assert } from 'node:assert';
import { NodeRole, SessionMessage } from '@tswarm/api';
import { leaderView, nextRoleStep } from '../src/role-plan.js';

const me = 'n2';

describe('what a node does about its role', () => {
  it('reads the desired role and the members from the leader\'s session message', () => {
    const msg = SessionMessage.fromPartial({ nodeSpec: { desiredRole: NodeRole.NODE_ROLE_MANAGER }, managers: [{ nodeId: 'n1', addr: 'a:2377' }] });
    assert.deepEqual(leaderView(msg), { desiredRole: 'manager', managerIds: ['n1'] });
    assert.equal(leaderView(SessionMessage.fromPartial({})), undefined);
  });

  it('promotion: a manager certificate first, then the manager', () => {
    const leader = { desiredRole: 'manager' as const, managerIds: ['n1'] };
    assert.deepEqual(nextRoleStep({ nodeId: me, running: 'worker', certificate: 'worker' }, leader), { kind: 'renew', role: 'manager' });
    assert.deepEqual(nextRoleStep({ nodeId: me, running: 'worker', certificate: 'manager' }, leader), { kind: 'start-manager' });
    assert.equal(nextRoleStep({ nodeId: me, running: 'manager', certificate: 'manager' }, leader), undefined);
  });

  it('demotion: the manager keeps running until the leader has removed this member', () => {
    const removing = { desiredRole: 'worker' as const, managerIds: ['n1', me] };
    assert.equal(nextRoleStep({ nodeId: me, running: 'manager', certificate: 'manager' }, removing), undefined);
    const removed = { desiredRole: 'worker' as const, managerIds: ['n1'] };
    assert.deepEqual(nextRoleStep({ nodeId: me, running: 'manager', certificate: 'manager' }, removed), { kind: 'stop-manager' });
    assert.deepEqual(nextRoleStep({ nodeId: me, running: 'worker', certificate: 'manager' }, removed), { kind: 'renew', role: 'worker' });
    assert.equal(nextRoleStep({ nodeId: me, running: 'worker', certificate: 'worker' }, removed), undefined);
  });
});
