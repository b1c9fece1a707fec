import { strict as assert } from 'node:assert';
import { Network } from '@tswarm/api';
import { FakeDaemon } from './fake.js';

const APP = 'app0123456789abcdefghijkl';
const INGRESS = 'ing0123456789abcdefghijkl';

function network(id: string, name: string, o: Parameters<typeof Network.fromPartial>[0] = {}): Network {
  return Network.fromPartial({
    id, meta: { version: 3, createdAtMs: Date.UTC(2024, 0, 2, 3, 4, 5) },
    spec: { name, driver: 'overlay', ...o.spec }, vni: o.vni ?? 4097, ipam: o.ipam ?? { subnet: '10.0.1.0/24', gateway: '10.0.1.1' },
  });
}

describe('tswarm network', () => {
  const fake = new FakeDaemon();
  before(() => fake.start());
  after(() => fake.stop());
  beforeEach(() => fake.reset());

  describe('create', () => {
    it('sends the flags as a network spec and prints the new ID', async () => {
      fake.handlers['createNetwork'] = (req) => ({ network: network(APP, req.spec.name) });
      const r = await fake.tswarm(['network', 'create', '-d', 'overlay', '--subnet', '10.20.0.0/16', '--gateway', '10.20.0.254', '--ip-range', '10.20.1.0/24',
        '--attachable', '--label', 'team=a', '--label', 'tier', '--opt', 'encrypted', 'app']);
      assert.deepEqual([r.code, r.out, r.err], [0, `${APP}\n`, '']);
      assert.deepEqual(fake.only('createNetwork'), {
        spec: {
          name: 'app', driver: 'overlay', labels: { team: 'a', tier: '' }, driverOpts: { encrypted: '' },
          ipam: { subnet: '10.20.0.0/16', gateway: '10.20.0.254', ipRange: '10.20.1.0/24' }, attachable: true, ingress: false, internal: false,
        },
      });
    });

    it('defaults to the overlay driver and lets the manager pick the subnet', async () => {
      fake.handlers['createNetwork'] = (req) => ({ network: network(APP, req.spec.name) });
      const r = await fake.tswarm(['network', 'create', 'app']);
      assert.equal(r.code, 0, r.err);
      const spec = fake.only('createNetwork').spec;
      assert.deepEqual([spec.driver, spec.ipam, spec.attachable], ['overlay', undefined, false]);
    });

    it('refuses bad flags with one line and exit 125, sending nothing', async () => {
      const cases: Array<[string[], string]> = [
        [['-d', 'bridge', 'app'], `invalid argument "bridge" for "--driver" flag: only "overlay" is supported: tswarm networks span the swarm. See 'tswarm network create --help'.\n`],
        [['--subnet', '10.0.0.0', 'app'], `invalid argument "10.0.0.0" for "--subnet" flag: expected an IPv4 network in CIDR form, e.g. 10.20.0.0/16. See 'tswarm network create --help'.\n`],
        [['--subnet', '10.0.0.0/24', '--gateway', '10.0.0.300', 'app'], `invalid argument "10.0.0.300" for "--gateway" flag: expected an IPv4 address, e.g. 10.10.0.1. See 'tswarm network create --help'.\n`],
        [['--ip-range', '10.0.0.0/33', 'app'], `invalid argument "10.0.0.0/33" for "--ip-range" flag: expected an IPv4 network in CIDR form, e.g. 10.20.0.0/16. See 'tswarm network create --help'.\n`],
        [['--opt', 'mtu=1400', 'app'], `invalid argument "mtu=1400" for "--opt" flag: unknown option "mtu": the overlay driver knows only "encrypted". See 'tswarm network create --help'.\n`],
        [['--gateway', '10.0.0.1', 'app'], `--gateway and --ip-range need --subnet: they must lie inside the network's subnet. See 'tswarm network create --help'.\n`],
        [['--internal', 'app'], `unknown flag: --internal. See 'tswarm network create --help'.\n`],
        [[], `"tswarm network create" requires at least 1 argument (NETWORK is missing). See 'tswarm network create --help'.\n`],
        [['a', 'b'], `"tswarm network create" accepts at most 1 argument. See 'tswarm network create --help'.\n`],
      ];
      for (const [args, err] of cases) {
        const r = await fake.tswarm(['network', 'create', ...args]);
        assert.deepEqual([r.code, r.err], [125, err], args.join(' '));
      }
      assert.deepEqual(fake.calls, []);
    });

    it('passes the manager\'s refusal through as one line, exit 1', async () => {
      fake.handlers['createNetwork'] = () => {
        throw new Error('subnet 10.0.1.0/24 overlaps network "app" (10.0.0.0/16); choose a subnet outside it');
      };
      const r = await fake.tswarm(['network', 'create', '--subnet', '10.0.1.0/24', 'db']);
      assert.deepEqual([r.code, r.err], [1, 'Error: subnet 10.0.1.0/24 overlaps network "app" (10.0.0.0/16); choose a subnet outside it\n']);
    });
  });

  describe('ls', () => {
    beforeEach(() => {
      fake.handlers['listNetworks'] = () => ({ networks: [network(INGRESS, 'ingress', { spec: { ingress: true } }), network(APP, 'app', { spec: { labels: { b: '2', a: '1' } } })] });
    });

    it('prints Docker\'s columns sorted by name, scope swarm', async () => {
      const r = await fake.tswarm(['network', 'ls']);
      assert.equal(r.code, 0, r.err);
      assert.equal(r.out, [
        'NETWORK ID     NAME      DRIVER    SCOPE',
        'app012345678   app       overlay   swarm',
        'ing012345678   ingress   overlay   swarm',
        '',
      ].join('\n'));
    });

    it('prints IDs only with -q (whole with --no-trunc), and JSON lines with --format json', async () => {
      assert.equal((await fake.tswarm(['network', 'ls', '-q'])).out, 'app012345678\ning012345678\n');
      assert.equal((await fake.tswarm(['network', 'ls', '-q', '--no-trunc'])).out, `${APP}\n${INGRESS}\n`);
      const lines = (await fake.tswarm(['network', 'ls', '--format', 'json'])).out.trim().split('\n').map((l) => JSON.parse(l));
      assert.deepEqual(lines[0], { CreatedAt: '2024-01-02T03:04:05.000Z', Driver: 'overlay', ID: 'app012345678', IPv6: 'false', Internal: 'false', Labels: 'a=1,b=2', Name: 'app', Scope: 'swarm' });
      assert.equal(lines[1].Name, 'ingress');
    });
  });

  describe('inspect and rm', () => {
    it('inspect prints a JSON array in Docker\'s shape with subnet, gateway and VNI', async () => {
      fake.handlers['getNetwork'] = (req) => ({
        network: network(APP, req.networkId, { vni: 4100, spec: { driverOpts: { encrypted: '' } }, ipam: { subnet: '10.0.1.0/24', gateway: '10.0.1.1', ipRange: '10.0.1.128/25' } }),
        endpoints: req.networkId === 'app'
          ? [{ networkId: APP, taskId: 't1', taskName: 'web.1.t1', serviceId: 's1', nodeId: 'n2', addr: '10.0.1.130/24', aliases: ['www'], active: true, vni: 0 }]
          : [],
        peers: req.networkId === 'app' ? [{ nodeId: 'n2', addr: '192.168.1.12', ingressAddr: '' }] : [],
      });
      const r = await fake.tswarm(['network', 'inspect', 'app', 'db']);
      assert.equal(r.code, 0, r.err);
      const out = JSON.parse(r.out);
      assert.equal(out.length, 2);
      assert.deepEqual(out[0].IPAM, { Driver: 'default', Options: null, Config: [{ Subnet: '10.0.1.0/24', Gateway: '10.0.1.1', IPRange: '10.0.1.128/25' }] });
      assert.deepEqual(out[0].Options, { 'com.docker.network.driver.overlay.vxlanid_list': '4100', encrypted: '' });
      assert.deepEqual([out[0].Name, out[0].Id, out[0].Scope, out[0].Driver], ['app', APP, 'swarm', 'overlay']);
      assert.deepEqual(out[0].Containers, {
        t1: { Name: 'web.1.t1', EndpointID: 't1', MacAddress: '02:42:0a:00:01:82', IPv4Address: '10.0.1.130/24', IPv6Address: '', Node: 'n2', Active: true, Aliases: ['www'] },
      });
      assert.deepEqual(out[0].Peers, [{ Name: 'n2', IP: '192.168.1.12' }]);
      assert.deepEqual([out[1].Containers, out[1].Peers], [{}, []]);
      assert.deepEqual(fake.calls.map((c) => c.req.networkId), ['app', 'db']);
    });

    it('rm removes each network, printing its name, and reports every refusal at the end', async () => {
      fake.handlers['removeNetwork'] = (req) => {
        if (req.networkId === 'app') throw new Error('network "app" is in use by service "web"; remove the service first');
        return {};
      };
      const r = await fake.tswarm(['network', 'rm', 'app', 'db']);
      assert.deepEqual([r.code, r.out, r.err], [1, 'db\n', 'Error: network "app" is in use by service "web"; remove the service first\n']);
    });
  });
});
