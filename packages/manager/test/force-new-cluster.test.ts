import * as assert from 'node:assert/strict';
import { NodeRole, NodeState } from '@tswarm/api';
import { demoteRemovedManagers, nodesTable } from '../src/index.js';
import { localStore, nodeOf, putNode } from './dispatcher/harness.js';

describe('force-new-cluster: recording the removed managers as workers', () => {
  it('re-reads and applies again when another write to the node lands first', async () => {
    const { store, proposer } = localStore();
    await putNode(store, 'm2', NodeState.NODE_STATE_READY, { desiredRole: NodeRole.NODE_ROLE_MANAGER });
    // The dispatcher marks the lost manager DOWN between our read and our entry.
    proposer.before = () => store.update((tx) => {
      const cur = tx.get(nodesTable, 'm2')!;
      tx.update(nodesTable, { ...cur.object, status: { ...cur.object.status!, state: NodeState.NODE_STATE_DOWN } }, cur.version);
    }).then(() => undefined);
    await demoteRemovedManagers(store, ['m2'], 1000);
    const n = nodeOf(store, 'm2')!;
    assert.equal(n.spec?.desiredRole, NodeRole.NODE_ROLE_WORKER);
    assert.equal(n.role, NodeRole.NODE_ROLE_WORKER);
    assert.equal(n.status?.state, NodeState.NODE_STATE_DOWN, 'the competing write is kept');
  });
});
