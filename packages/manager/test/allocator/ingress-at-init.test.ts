import { strict as assert } from 'node:assert';
import { NodeDescription } from '@tswarm/api';
import { createRootCA } from '@tswarm/ca';
import { LocalProposer, Store } from '@tswarm/store';
import { CLUSTER_TABLES, createCluster, networksTable } from '../../src/index.js';

const CLUSTER = 'c'.repeat(25);

describe('swarm init: the ingress network', () => {
  it('is created with the cluster, from the default pool like any other network', async function () {
    this.timeout(10_000);
    const proposer = new LocalProposer();
    let req = 0;
    const store = new Store({ proposer, tables: CLUSTER_TABLES, newRequestId: () => `r${++req}` });
    proposer.attach(store);
    const rootCA = await createRootCA({ clusterId: CLUSTER, now: new Date() });
    await createCluster(store, {
      clusterId: CLUSTER, nodeId: 'n1', rootCA, advertiseAddr: '10.1.0.1:2377', nowMs: 1,
      description: NodeDescription.fromPartial({ hostname: 'h1' }), ingressNetworkId: 'i'.repeat(25),
    });
    const nets = store.view((tx) => tx.list(networksTable).map((r) => r.object));
    assert.equal(nets.length, 1);
    assert.deepEqual([nets[0]!.id, nets[0]!.spec?.name, nets[0]!.spec?.ingress, nets[0]!.ipam?.subnet, nets[0]!.vni], ['i'.repeat(25), 'ingress', true, '10.0.0.0/24', 4096]);
    assert.equal(store.version, 1, 'cluster, node and ingress network in one transaction');
  });
});
