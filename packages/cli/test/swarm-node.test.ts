import { strict as assert } from 'node:assert';
import { NodeAvailability, NodeRole } from '@tswarm/api';
import { FakeDaemon } from './fake.js';
import { node } from './fixtures.js';

const N2 = 'node2bbbbbbbbbbbbbbbbbbbbb';

describe('tswarm swarm', () => {
  const fake = new FakeDaemon();
  before(() => fake.start());
  after(() => fake.stop());
  beforeEach(() => fake.reset());

  it('init prints the worker join command like Docker, top-level alias included', async () => {
    fake.handlers['init'] = () => ({ nodeId: 'abc123', clusterId: 'c', workerJoinToken: 'SWMTKN-1-w', managerJoinToken: 'SWMTKN-1-m', advertiseAddr: '192.168.1.10:2377' });
    for (const argv of [['swarm', 'init'], ['init']]) {
      fake.calls.length = 0;
      const r = await fake.tswarm([...argv, '--advertise-addr', '192.168.1.10', '--default-addr-pool', '10.20.0.0/16', '--data-path-port', '7789']);
      assert.equal(r.code, 0, r.err);
      assert.equal(r.out, [
        'Swarm initialized: current node (abc123) is now a manager.',
        '',
        'To add a worker to this swarm, run the following command:',
        '',
        '    tswarm swarm join --token SWMTKN-1-w 192.168.1.10:2377',
        '',
        "To add a manager to this swarm, run 'tswarm swarm join-token manager' and follow the instructions.",
        '',
      ].join('\n'));
      assert.deepEqual(fake.only('init'), { advertiseAddr: '192.168.1.10', listenAddr: '0.0.0.0:2377', defaultAddrPool: ['10.20.0.0/16'], subnetSize: 24, dataPathPort: 7789, forceNewCluster: false, dispatcherHeartbeatMs: 5000 });
    }
  });

  it('init refuses bad addresses, pools and ports before asking the daemon', async () => {
    for (const [flag, value, msg] of [
      ['--advertise-addr', '10.0.0.1:99999', /out of range/],
      ['--default-addr-pool', '10.0.0.0', /CIDR/],
      ['--data-path-port', '80', /1024-49151/],
      ['--listen-addr', 'a:b:c', /<ip\|interface>\[:port\]/],
    ] as const) {
      const r = await fake.tswarm(['swarm', 'init', flag, value]);
      assert.equal(r.code, 125, flag);
      assert.match(r.err, new RegExp(`^invalid argument "${value}" for "${flag}" flag: .*${msg.source}.*See 'tswarm swarm init --help'\\.\\n$`));
    }
    assert.deepEqual(fake.calls, []);
  });

  it('passes the daemon\'s refusal through, exit 1', async () => {
    fake.handlers['init'] = () => {
      throw new Error('this node is already part of a swarm; leave it first with \'tswarm swarm leave\'');
    };
    const r = await fake.tswarm(['init']);
    assert.deepEqual([r.code, r.err], [1, "Error: this node is already part of a swarm; leave it first with 'tswarm swarm leave'\n"]);
  });

  it('join adds the default port and says which role the node got', async () => {
    fake.handlers['join'] = () => ({ nodeId: 'n', manager: false });
    let r = await fake.tswarm(['join', '--token', 'SWMTKN-1-w', '--availability', 'drain', '192.168.1.10']);
    assert.deepEqual([r.code, r.out], [0, 'This node joined a swarm as a worker.\n']);
    assert.deepEqual(fake.only('join'), { remoteAddr: '192.168.1.10:2377', joinToken: 'SWMTKN-1-w', advertiseAddr: '', listenAddr: '0.0.0.0:2377', availability: NodeAvailability.NODE_AVAILABILITY_DRAIN });
    fake.handlers['join'] = () => ({ nodeId: 'n', manager: true });
    r = await fake.tswarm(['swarm', 'join', '--token', 'SWMTKN-1-m', 'mgr1:4000']);
    assert.equal(r.out, 'This node joined a swarm as a manager.\n');
    assert.equal(fake.calls[1]!.req.remoteAddr, 'mgr1:4000');
  });

  it('join without --token or with two addresses is a usage error', async () => {
    let r = await fake.tswarm(['join', '10.0.0.1']);
    assert.equal(r.code, 125);
    assert.match(r.err, /^--token is required; print it on a manager with 'tswarm swarm join-token worker'\. See 'tswarm join --help'\.\n$/);
    r = await fake.tswarm(['swarm', 'join', '--token', 't', 'a', 'b']);
    assert.deepEqual([r.code, r.err], [125, `"tswarm swarm join" accepts at most 1 argument. See 'tswarm swarm join --help'.\n`]);
    assert.deepEqual(fake.calls, []);
  });

  it('join-token prints the command, or only the token with -q, and rotates', async () => {
    fake.handlers['getJoinToken'] = (req) => ({ token: req.role === NodeRole.NODE_ROLE_MANAGER ? 'SWMTKN-1-m2' : 'SWMTKN-1-w', managerAddr: '10.0.0.1:2377' });
    let r = await fake.tswarm(['swarm', 'join-token', '--rotate', 'manager']);
    assert.equal(r.out, 'Successfully rotated manager join token.\n\nTo add a manager to this swarm, run the following command:\n\n    tswarm swarm join --token SWMTKN-1-m2 10.0.0.1:2377\n\n');
    assert.deepEqual(fake.calls[0]!.req, { role: NodeRole.NODE_ROLE_MANAGER, rotate: true });
    r = await fake.tswarm(['swarm', 'join-token', '-q', 'worker']);
    assert.equal(r.out, 'SWMTKN-1-w\n');
    r = await fake.tswarm(['swarm', 'join-token', 'boss']);
    assert.equal(r.code, 125);
    assert.match(r.err, /^unknown role boss/);
  });

  it('leave says so', async () => {
    fake.handlers['leave'] = () => ({});
    const r = await fake.tswarm(['swarm', 'leave', '-f']);
    assert.deepEqual([r.code, r.out], [0, 'Node left the swarm.\n']);
    assert.deepEqual(fake.only('leave'), { force: true });
  });

  it('lists network, node, service and swarm under Management Commands at the root', async () => {
    const r = await fake.tswarm(['--help']);
    assert.match(r.out, /\nManagement Commands:\n  network {5}Manage networks\n  node {8}Manage Swarm nodes\n  service {5}Manage Swarm services\n  swarm {7}Manage Swarm\n\nCommands:\n/);
  });
});

describe('tswarm node', () => {
  const fake = new FakeDaemon();
  before(() => fake.start());
  after(() => fake.stop());
  beforeEach(() => {
    fake.reset();
    fake.handlers['getNode'] = () => ({ node: node(N2, 'h2') });
    fake.handlers['updateNode'] = () => ({});
  });

  it('update changes availability and labels at the version read', async () => {
    const r = await fake.tswarm(['node', 'update', '--availability', 'drain', '--label-add', 'zone=a', '--label-add', 'ssd', 'h2']);
    assert.deepEqual([r.code, r.out], [0, 'h2\n']);
    assert.deepEqual(fake.only('updateNode'), { nodeId: N2, nodeVersion: 3, spec: { desiredRole: NodeRole.NODE_ROLE_WORKER, availability: NodeAvailability.NODE_AVAILABILITY_DRAIN, labels: { zone: 'a', ssd: '' } } });
  });

  it('update refuses an unknown availability without a call', async () => {
    const r = await fake.tswarm(['node', 'update', '--availability', 'off', 'h2']);
    assert.equal(r.code, 125);
    assert.match(r.err, /^invalid argument "off" for "--availability" flag: expected "active", "pause", "drain"/);
    assert.deepEqual(fake.calls, []);
  });

  it('promote and demote speak Docker\'s sentences', async () => {
    let r = await fake.tswarm(['node', 'promote', 'h2']);
    assert.equal(r.out, 'Node h2 promoted to a manager in the swarm.\n');
    assert.equal(fake.only('updateNode').spec.desiredRole, NodeRole.NODE_ROLE_MANAGER);
    fake.calls.length = 0;
    r = await fake.tswarm(['node', 'demote', 'h2']);
    assert.equal(r.out, `Node ${N2} is already a worker.\n`);
    assert.deepEqual(fake.calls.map((c) => c.method), ['getNode']);
  });

  it('rm prints each node and reports failures at the end', async () => {
    fake.handlers['removeNode'] = (req) => {
      if (req.nodeId === 'h3') throw new Error('node h3 is not down and can\'t be removed; use --force');
      return {};
    };
    const r = await fake.tswarm(['node', 'rm', 'h2', 'h3']);
    assert.deepEqual([r.code, r.out, r.err], [1, 'h2\n', "Error: node h3 is not down and can't be removed; use --force\n"]);
  });

  it('inspect prints a JSON array in Docker\'s shape, "self" being this daemon\'s node, or --pretty text', async () => {
    let r = await fake.tswarm(['node', 'inspect', 'self']);
    const json = JSON.parse(r.out);
    assert.equal(json.length, 1);
    assert.equal(json[0].Description.Hostname, 'h2');
    assert.equal(json[0].Status.Addr, '10.0.0.1');
    assert.match(r.out, /^\[\n {4}\{\n {8}"ID": "node2b+",\n/);
    assert.equal(fake.only('getNode').nodeId, 'node1aaaaaaaaaaaaaaaaaaaaa');
    r = await fake.tswarm(['node', 'inspect', '--pretty', 'h2']);
    assert.match(r.out, /^ID: +node2b+\nHostname: +h2\n/);
    assert.match(r.out, /\nStatus:\n State: +Ready\n Availability: +Active\n/);
  });

  it('inspect refuses --format table (a list format) instead of ignoring it, without a call', async () => {
    const r = await fake.tswarm(['node', 'inspect', '--format', 'table', 'h2']);
    assert.equal(r.code, 125);
    assert.match(r.err, /unsupported --format "table" for inspect: use "json", or --pretty for a human form/);
    assert.deepEqual(fake.calls, []);
    assert.equal(JSON.parse((await fake.tswarm(['node', 'inspect', '--format', 'json', 'h2'])).out)[0].Description.Hostname, 'h2');
  });
});
