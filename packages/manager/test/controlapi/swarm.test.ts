import * as assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { NodeRole } from '@tswarm/api';
import { parseJoinToken } from '@tswarm/ca';
import { clusterTable } from '../../src/tables.js';
import { addCluster, DIGEST, harness, MANAGER_TOKEN, refused, WORKER_TOKEN } from './harness.js';

describe('control API: InspectSwarm', () => {
  it('returns the cluster without the CA key and join tokens', async () => {
    const h = harness();
    await addCluster(h);
    const { cluster } = await h.api.inspectSwarm({});
    assert.equal(cluster?.id, 'c1');
    assert.equal(cluster?.rootCa?.caCertPem, 'CERT');
    assert.equal(cluster?.rootCa?.caKeyPem, '');
    assert.deepEqual(cluster?.joinTokens, { worker: '', manager: '' });
    assert.equal(cluster?.meta?.version, h.store.version);
    // The stored object keeps its secrets.
    assert.equal(h.store.view((tx) => tx.get(clusterTable, 'c1'))?.object.rootCa?.caKeyPem, 'SECRET KEY');
  });

  it('says so when the swarm is not initialized yet', async () => {
    const h = harness();
    await refused(h, h.api.inspectSwarm({}), status.FAILED_PRECONDITION, /not initialized yet/);
  });
});

describe('control API: GetJoinToken', () => {
  it('returns the token for the role and where to join', async () => {
    const h = harness();
    await addCluster(h);
    assert.deepEqual(await h.api.getJoinToken({ role: NodeRole.NODE_ROLE_WORKER, rotate: false }), { token: WORKER_TOKEN, managerAddr: '10.0.0.1:2377' });
    assert.equal((await h.api.getJoinToken({ role: NodeRole.NODE_ROLE_MANAGER, rotate: false })).token, MANAGER_TOKEN);
  });

  it('rotates: a new secret, the same CA digest, the other token untouched', async () => {
    const h = harness();
    await addCluster(h);
    const { token } = await h.api.getJoinToken({ role: NodeRole.NODE_ROLE_WORKER, rotate: true });
    assert.notEqual(token, WORKER_TOKEN);
    assert.equal(parseJoinToken(token).rootDigest, DIGEST);
    const stored = h.store.view((tx) => tx.get(clusterTable, 'c1'))!.object.joinTokens;
    assert.deepEqual(stored, { worker: token, manager: MANAGER_TOKEN });
  });

  it('refuses an unknown role', async () => {
    const h = harness();
    await addCluster(h);
    await refused(h, h.api.getJoinToken({ role: NodeRole.UNRECOGNIZED, rotate: true }), status.INVALID_ARGUMENT, /invalid role/);
  });
});
