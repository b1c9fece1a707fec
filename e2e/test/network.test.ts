// Overlay networks, control plane only (issue: overlay networking, items 1–2): `init`
// creates "ingress", `network create` allocates from the default pool, an overlapping
// --subnet is refused, and a network in use by a service cannot be removed until the
// service is gone. No data plane yet: tasks still run on Docker's default bridge.
import assert from 'node:assert/strict';
import { formSwarm, jsonLines, Lab, labContainers, tswarmOk, until } from '../src/index.js';

const PREFIX = 'tswn';
const SUBNET = '192.168.220.0/24';

describe('networks: create, list, inspect and remove on lab hosts', function () {
  let lab: Lab;

  before(async function () {
    lab = await Lab.up(2, { prefix: PREFIX, subnet: SUBNET });
    await formSwarm(lab, 'h1', { h2: 'worker' });
  });

  after(async function () {
    await Lab.destroy(PREFIX);
  });

  it('has an ingress network from init, and creates an overlay allocated from the default pool', async function () {
    const id = (await tswarmOk(lab, 'h1', 'network', 'create', '-d', 'overlay', 'app')).trim();
    assert.match(id, /^[0-9a-z]{25}$/);
    const rows = jsonLines(await tswarmOk(lab, 'h1', 'network', 'ls', '--format', 'json'));
    assert.deepEqual(rows.map((r) => [r['Name'], r['Driver'], r['Scope']]), [['app', 'overlay', 'swarm'], ['ingress', 'overlay', 'swarm']]);
    const [app, ingress] = JSON.parse(await tswarmOk(lab, 'h1', 'network', 'inspect', 'app', 'ingress'));
    assert.deepEqual([ingress.Ingress, ingress.IPAM.Config, ingress.Options['com.docker.network.driver.overlay.vxlanid_list']], [true, [{ Subnet: '10.0.0.0/24', Gateway: '10.0.0.1' }], '4096']);
    assert.deepEqual([app.Id, app.IPAM.Config, app.Options['com.docker.network.driver.overlay.vxlanid_list']], [id, [{ Subnet: '10.0.1.0/24', Gateway: '10.0.1.1' }], '4097']);
  });

  it('refuses an overlapping subnet and a second network of the same name, creating nothing', async function () {
    let r = await lab.tswarm('h1', 'network', 'create', '--subnet', '10.0.1.128/25', 'db');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: subnet 10\.0\.1\.128\/25 overlaps network "app" \(10\.0\.1\.0\/24\)/);
    r = await lab.tswarm('h1', 'network', 'create', 'app');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^Error: network name "app" is already in use/);
    r = await lab.tswarm('h1', 'network', 'create', '-d', 'bridge', 'db');
    assert.equal(r.code, 125);
    assert.equal((await tswarmOk(lab, 'h1', 'network', 'ls', '-q')).trim().split('\n').length, 2);
  });

  it('answers a worker with Docker\'s words for where to run network commands', async function () {
    const r = await lab.tswarm('h2', 'network', 'ls');
    assert.equal(r.code, 1);
    assert.match(r.stderr, /This node is not a swarm manager\. Worker nodes can't be used to view or modify cluster state/);
  });

  it('will not remove a network a service uses until the service is gone', async function () {
    await tswarmOk(lab, 'h1', 'service', 'create', '--name', 'web', '--network', 'app', '--stop-grace-period', '1s', 'tswarm/busybox', 'httpd', '-f', '-p', '80');
    let r = await lab.tswarm('h1', 'network', 'rm', 'app');
    assert.deepEqual([r.code, r.stderr], [1, 'Error: network "app" is in use by service "web"; remove the service first\n']);
    await tswarmOk(lab, 'h1', 'service', 'rm', 'web');
    await until('no container of web left', 20_000, async () => ((await labContainers(lab, 'label=com.tswarm.service.name=web')).length === 0 ? true : undefined));
    assert.equal(await tswarmOk(lab, 'h1', 'network', 'rm', 'app'), 'app\n');
    r = await lab.tswarm('h1', 'network', 'inspect', 'app');
    assert.deepEqual([r.code, r.stderr], [1, 'Error: network app not found\n']);
    assert.deepEqual(jsonLines(await tswarmOk(lab, 'h1', 'network', 'ls', '--format', 'json')).map((n) => n['Name']), ['ingress']);
  });
});
