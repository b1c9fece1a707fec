import { strict as assert } from 'node:assert';
import { Network, PortProtocol, PublishMode, Service } from '@tswarm/api';
import { DuplicateKeyError, LocalProposer, Store } from '@tswarm/store';
import { CLUSTER_TABLES, networksTable, servicesTable } from '../src/index.js';

function store(): Store {
  const proposer = new LocalProposer();
  let req = 0;
  const s = new Store({ proposer, tables: CLUSTER_TABLES, newRequestId: () => `r${++req}` });
  proposer.attach(s);
  return s;
}

const net = (id: string, name: string, subnet: string, vni: number) =>
  Network.fromPartial({ id, spec: { name, driver: 'overlay' }, vni, ipam: { subnet, gateway: '', ipRange: '' } });

const svc = (id: string, name: string, published: number) =>
  Service.fromPartial({
    id, spec: { name },
    endpoint: { ports: [{ protocol: PortProtocol.PORT_PROTOCOL_TCP, targetPort: 80, publishedPort: published, publishMode: PublishMode.PUBLISH_MODE_INGRESS }] },
  });

// The control API allocates subnets, VNIs and published ports from its local view; two
// managers deciding at the same instant could pick the same one. These unique indexes make
// the second transaction fail when it is applied, identically on every replica.
describe('cluster tables: allocations stay unique at apply time', () => {
  it('refuses a second network with the same VNI or subnet', async () => {
    const s = store();
    await s.update((tx) => tx.create(networksTable, net('a', 'app', '10.0.1.0/24', 4097)));
    await assert.rejects(s.update((tx) => tx.create(networksTable, net('b', 'db', '10.0.2.0/24', 4097))), DuplicateKeyError);
    await assert.rejects(s.update((tx) => tx.create(networksTable, net('c', 'cache', '10.0.1.0/24', 4098))), DuplicateKeyError);
    assert.equal(s.view((tx) => tx.list(networksTable).length), 1);
  });

  it('refuses a second service publishing the same ingress port', async () => {
    const s = store();
    await s.update((tx) => tx.create(servicesTable, svc('a', 'web', 8080)));
    await assert.rejects(s.update((tx) => tx.create(servicesTable, svc('b', 'api', 8080))), DuplicateKeyError);
    await s.update((tx) => tx.create(servicesTable, svc('c', 'api', 8081)));
    assert.equal(s.view((tx) => tx.list(servicesTable).length), 2);
  });
});
