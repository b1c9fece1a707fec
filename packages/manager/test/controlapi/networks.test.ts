import * as assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { Cluster, NetworkSpec, PublishMode, type Network } from '@tswarm/api';
import { clusterTable, networksTable } from '../../src/tables.js';
import { addCluster, harness, refused, spec, T0, type Harness } from './harness.js';

type NetInput = Parameters<typeof NetworkSpec.fromPartial>[0];

async function create(h: Harness, p: NetInput = {}): Promise<Network> {
  const r = await h.api.createNetwork({ spec: NetworkSpec.fromPartial({ name: 'app', ...p }) });
  return r.network!;
}

describe('control API: networks', () => {
  describe('CreateNetwork', () => {
    it('allocates a subnet, gateway and VNI, defaults the driver to overlay, and returns the stored network', async () => {
      const h = harness();
      const n = await create(h, { labels: { team: 'a' }, driverOpts: { encrypted: '' }, attachable: true });
      assert.equal(n.id.length, 25);
      assert.deepEqual(n.ipam, { subnet: '10.0.0.0/24', gateway: '10.0.0.1', ipRange: '' });
      assert.equal(n.vni, 4096);
      assert.deepEqual([n.spec?.driver, n.spec?.labels, n.spec?.driverOpts, n.spec?.attachable], ['overlay', { team: 'a' }, { encrypted: '' }, true]);
      assert.equal(n.meta?.version, h.store.version);
      assert.equal(n.meta?.createdAtMs, T0);
      assert.deepEqual(h.store.view((tx) => tx.get(networksTable, n.id)?.object.ipam), n.ipam);
    });

    it('gives each network its own subnet and VNI, from the cluster\'s pool and subnet size', async () => {
      const h = harness();
      await h.store.update((tx) => tx.create(clusterTable, Cluster.fromPartial({ id: 'c1', defaultAddrPool: ['172.30.0.0/16'], subnetSize: 26 })));
      const a = await create(h, { name: 'a' });
      const b = await create(h, { name: 'b' });
      assert.deepEqual([a.ipam?.subnet, a.vni, b.ipam?.subnet, b.vni], ['172.30.0.0/26', 4096, '172.30.0.64/26', 4097]);
    });

    it('takes the subnet, gateway and IP range the user gave', async () => {
      const h = harness();
      const n = await create(h, { ipam: { subnet: '10.20.0.0/16', gateway: '10.20.0.254', ipRange: '10.20.1.0/24' } });
      assert.deepEqual(n.ipam, { subnet: '10.20.0.0/16', gateway: '10.20.0.254', ipRange: '10.20.1.0/24' });
    });

    it('refuses an overlapping subnet naming the network in the way, and writes nothing', async () => {
      const h = harness();
      await create(h, { ipam: { subnet: '10.0.0.0/16', gateway: '', ipRange: '' } });
      await refused(h, create(h, { name: 'db', ipam: { subnet: '10.0.1.0/24', gateway: '', ipRange: '' } }), status.FAILED_PRECONDITION, /^subnet 10\.0\.1\.0\/24 overlaps network "app" \(10\.0\.0\.0\/16\)/);
      // Allocation steps around the user's /16 too.
      assert.equal((await create(h, { name: 'db' })).ipam?.subnet, '10.1.0.0/24');
    });

    it('refuses a name already in use, case-insensitively', async () => {
      const h = harness();
      await create(h);
      await refused(h, create(h, { name: 'APP' }), status.ALREADY_EXISTS, 'network name "APP" is already in use; choose another name or remove that network first');
    });

    it('refuses bad names, drivers, options and labels before allocating anything', async () => {
      const h = harness();
      const cases: Array<[NetInput, number, RegExp]> = [
        [{ name: '' }, status.INVALID_ARGUMENT, /^a network name is required/],
        [{ name: 'my.net' }, status.INVALID_ARGUMENT, /^invalid network name "my\.net"/],
        [{ name: 'x'.repeat(64) }, status.INVALID_ARGUMENT, /the limit is 63/],
        [{ driver: 'bridge' }, status.INVALID_ARGUMENT, /^network driver "bridge" is not supported: swarm networks use the "overlay" driver/],
        [{ driverOpts: { mtu: '1400' } }, status.INVALID_ARGUMENT, /^unknown network option "mtu": the overlay driver knows only "encrypted"$/],
        [{ labels: { ' ': 'x' } }, status.INVALID_ARGUMENT, /^invalid network label: the key is empty$/],
        [{ ingress: true }, status.UNIMPLEMENTED, /creating an ingress network is not supported/],
        [{ ipam: { subnet: '', gateway: '10.0.0.1', ipRange: '' } }, status.INVALID_ARGUMENT, /give --subnet as well/],
        [{ ipam: { subnet: '10.5.0.0/24', gateway: '10.6.0.1', ipRange: '' } }, status.INVALID_ARGUMENT, /^gateway 10\.6\.0\.1 is not inside subnet 10\.5\.0\.0\/24$/],
      ];
      for (const [input, code, msg] of cases) await refused(h, create(h, input), code, msg);
    });

    it('says when the pool is used up', async () => {
      const h = harness();
      await h.store.update((tx) => tx.create(clusterTable, Cluster.fromPartial({ id: 'c1', defaultAddrPool: ['10.0.0.0/24'], subnetSize: 24 })));
      await create(h, { name: 'a' });
      await refused(h, create(h, { name: 'b' }), status.RESOURCE_EXHAUSTED, /^no subnet left in the default address pool 10\.0\.0\.0\/24 for \/24 networks/);
    });
  });

  describe('GetNetwork and ListNetworks', () => {
    it('finds a network by ID, unique ID prefix or name, and lists them by name', async () => {
      const h = harness();
      // From another manager's API, so b's ID starts with "o" and a's with "s".
      const b = (await h.other().createNetwork({ spec: NetworkSpec.fromPartial({ name: 'b' }) })).network!;
      const a = await create(h, { name: 'a' });
      await create(h, { name: 'c' });
      for (const ref of [b.id, 'o', 'B']) assert.equal((await h.api.getNetwork({ networkId: ref })).network?.id, b.id, ref);
      await refused(h, h.api.getNetwork({ networkId: 'nope' }), status.NOT_FOUND, 'network nope not found');
      await refused(h, h.api.getNetwork({ networkId: 's' }), status.INVALID_ARGUMENT, /is ambiguous/);
      assert.deepEqual((await h.api.listNetworks({})).networks.map((n) => n.id), [a.id, b.id, (await h.api.getNetwork({ networkId: 'c' })).network?.id]);
    });
  });

  describe('RemoveNetwork', () => {
    it('removes an unused network, freeing its subnet and VNI', async () => {
      const h = harness();
      const n = await create(h);
      await h.api.removeNetwork({ networkId: 'app' });
      assert.equal(h.store.view((tx) => tx.get(networksTable, n.id)), undefined);
      const again = await create(h, { name: 'again' });
      assert.deepEqual([again.ipam?.subnet, again.vni], ['10.0.0.0/24', 4096]);
    });

    it('refuses a network a service is attached to, naming the service', async () => {
      const h = harness();
      await create(h);
      await h.api.createService({ spec: spec({ name: 'web', task: { container: { image: 'nginx' }, networks: [{ target: 'app' }] } }) });
      await refused(h, h.api.removeNetwork({ networkId: 'app' }), status.FAILED_PRECONDITION, 'network "app" is in use by service "web"; remove the service first');
      await h.api.createService({ spec: spec({ name: 'api', task: { container: { image: 'nginx' }, networks: [{ target: 'app' }] } }) });
      await refused(h, h.api.removeNetwork({ networkId: 'app' }), status.FAILED_PRECONDITION, 'network "app" is in use by services "api", "web"; remove the services first');
      await h.api.removeService({ serviceId: 'web' });
      await h.api.removeService({ serviceId: 'api' });
      await h.api.removeNetwork({ networkId: 'app' });
    });

    it('refuses the ingress network while a service publishes a port through the routing mesh', async () => {
      const h = harness();
      await addCluster(h);
      await h.store.update((tx) => tx.create(networksTable, { id: 'i'.repeat(25), meta: undefined, spec: NetworkSpec.fromPartial({ name: 'ingress', driver: 'overlay', ingress: true }), vni: 4096, ipam: { subnet: '10.0.0.0/24', gateway: '10.0.0.1', ipRange: '' } }));
      const port = { targetPort: 80, publishedPort: 8080, publishMode: PublishMode.PUBLISH_MODE_INGRESS };
      await h.api.createService({ spec: spec({ name: 'web', endpoint: { ports: [port] } }) });
      await refused(h, h.api.removeNetwork({ networkId: 'ingress' }), status.FAILED_PRECONDITION, /^network "ingress" is in use by service "web" \(published ports use the routing mesh\)/);
      await h.api.removeService({ serviceId: 'web' });
      await h.api.createService({ spec: spec({ name: 'hostport', endpoint: { ports: [{ ...port, publishMode: PublishMode.PUBLISH_MODE_HOST }] } }) });
      await h.api.removeNetwork({ networkId: 'ingress' });
    });

    it('says which network was not found', async () => {
      const h = harness();
      await refused(h, h.api.removeNetwork({ networkId: 'app' }), status.NOT_FOUND, 'network app not found');
    });
  });
});
