// The control plane on lab hosts with the real Docker Engine (issue: cluster control plane):
// init on h1, h2 joins as a manager and h3 as a worker; services spread, scale, update and
// are removed; failures are healed; bad input changes nothing. h4 stays outside the swarm.
import assert from 'node:assert/strict';
import { formSwarm, jsonLines, Lab, labContainers, runningTasks, tswarmOk, until } from '../src/index.js';

const PREFIX = 'tswc';
const SUBNET = '192.168.217.0/24';
/** A 1 s heartbeat makes a dead node DOWN after 3 s instead of Swarm's 15 s. */
const INIT_ARGS = ['--dispatcher-heartbeat', '1s'];

describe('cluster: init, join and services on lab hosts', function () {
  let lab: Lab;
  const nodeOf = async (svc: string) => (await runningTasks(lab, 'h1', svc)).map((t) => t.Node).sort();

  before(async function () {
    lab = await Lab.up(4, { prefix: PREFIX, subnet: SUBNET });
    await formSwarm(lab, 'h1', { h2: 'manager', h3: 'worker' }, INIT_ARGS);
  });

  after(async function () {
    await Lab.destroy(PREFIX);
  });

  it('lists the three nodes Ready, with the leader and the other manager marked', async function () {
    const nodes = await until('three Ready nodes', 10_000, async () => {
      const n = jsonLines(await tswarmOk(lab, 'h1', 'node', 'ls', '--format', 'json'));
      return n.length === 3 && n.every((x) => x['Status'] === 'Ready') ? n : undefined;
    });
    const status = Object.fromEntries(nodes.map((n) => [n['Hostname'], n['ManagerStatus']]));
    assert.deepEqual(status, { h1: 'Leader', h2: 'Reachable', h3: '' });
    const info = await tswarmOk(lab, 'h3', 'info');
    assert.match(info, / Swarm: active\n/);
  });

  it('spreads 6 replicas 2 per host, then scales, updates and removes them', async function () {
    await tswarmOk(lab, 'h1', 'service', 'create', '--name', 'web', '--replicas', '6', '--stop-grace-period', '1s', 'tswarm/busybox', 'httpd', '-f', '-p', '80');
    assert.deepEqual(await nodeOf('web'), ['h1', 'h1', 'h2', 'h2', 'h3', 'h3']);
    assert.equal((await labContainers(lab, 'label=com.tswarm.service.name=web')).length, 6);

    await tswarmOk(lab, 'h2', 'service', 'scale', 'web=3');
    await until('3 containers after scale', 20_000, async () => ((await labContainers(lab, 'label=com.tswarm.service.name=web')).length === 3 ? true : undefined));
    assert.equal((await runningTasks(lab, 'h1', 'web')).length, 3);

    const before = (await runningTasks(lab, 'h1', 'web')).map((t) => t.ID).sort();
    await tswarmOk(lab, 'h1', 'service', 'update', '--env-add', 'COLOR=blue', '--update-parallelism', '2', 'web');
    const after = await runningTasks(lab, 'h1', 'web');
    assert.equal(after.length, 3);
    assert.ok(after.every((t) => !before.includes(t.ID)), 'every task was replaced by the update');
    const spec = JSON.parse(await tswarmOk(lab, 'h1', 'service', 'inspect', 'web'));
    assert.match(JSON.stringify(spec), /COLOR=blue/);

    await tswarmOk(lab, 'h1', 'service', 'rm', 'web');
    await until('no container of web left', 20_000, async () => ((await labContainers(lab, 'label=com.tswarm.service.name=web')).length === 0 ? true : undefined));
    assert.equal((await tswarmOk(lab, 'h1', 'service', 'ls', '-q')).trim(), '');
  });

  it('streams a service\'s logs from the hosts that run it', async function () {
    await tswarmOk(lab, 'h1', 'service', 'create', '--name', 'talker', '--replicas', '2', 'tswarm/busybox', 'sh', '-c', 'echo hello from $(hostname); sleep 3600');
    const out = await until('both replicas logged', 20_000, async () => {
      const r = await lab.tswarm('h1', 'service', 'logs', 'talker');
      const lines = r.stdout.split('\n').filter((l) => l.includes('hello from'));
      return r.code === 0 && lines.length === 2 ? lines : undefined;
    });
    for (const l of out) assert.match(l, /^talker\.[12]\.\w+@h\d +\| hello from /);
    await tswarmOk(lab, 'h1', 'service', 'rm', 'talker');
  });

  it('restarts a container killed behind its back', async function () {
    await tswarmOk(lab, 'h1', 'service', 'create', '--name', 'victim', '--replicas', '1', '--restart-delay', '0s', 'tswarm/busybox', 'httpd', '-f', '-p', '80');
    const [first] = await labContainers(lab, 'label=com.tswarm.service.name=victim');
    assert.ok(first);
    await lab.exec('h1', ['docker', 'kill', first]);
    const replacement = await until('a new running task', 20_000, async () => {
      const ids = await labContainers(lab, 'label=com.tswarm.service.name=victim');
      const running = await runningTasks(lab, 'h1', 'victim');
      return running.length === 1 && ids.length === 1 && ids[0] !== first ? running[0] : undefined;
    });
    const history = jsonLines(await tswarmOk(lab, 'h1', 'service', 'ps', '--format', 'json', 'victim'));
    assert.ok(history.some((t) => t['ID'] !== replacement.ID && /Failed|Shutdown|Complete/.test(t['CurrentState'] ?? '')), 'the killed task stays in the history');
    await tswarmOk(lab, 'h1', 'service', 'rm', 'victim');
  });

  it('moves tasks off a drained node', async function () {
    await tswarmOk(lab, 'h1', 'service', 'create', '--name', 'drainme', '--replicas', '3', '--stop-grace-period', '1s', 'tswarm/busybox', 'httpd', '-f', '-p', '80');
    assert.ok((await nodeOf('drainme')).includes('h3'));
    await tswarmOk(lab, 'h1', 'node', 'update', '--availability', 'drain', 'h3');
    await until('no task of drainme on h3', 20_000, async () => {
      const nodes = await nodeOf('drainme');
      return nodes.length === 3 && !nodes.includes('h3') ? true : undefined;
    });
    await tswarmOk(lab, 'h1', 'node', 'update', '--availability', 'active', 'h3');
    await tswarmOk(lab, 'h1', 'service', 'rm', 'drainme');
  });

  it("marks a worker whose tswarmd was killed Down and runs its tasks elsewhere", async function () {
    await tswarmOk(lab, 'h1', 'service', 'create', '--name', 'survive', '--replicas', '3', 'tswarm/busybox', 'httpd', '-f', '-p', '80');
    assert.ok((await nodeOf('survive')).includes('h3'));
    await lab.killDaemon('h3');
    const t0 = Date.now();
    await until('h3 Down', 15_000, async () => {
      const n = jsonLines(await tswarmOk(lab, 'h1', 'node', 'ls', '--format', 'json'));
      return n.find((x) => x['Hostname'] === 'h3')?.['Status'] === 'Down' ? true : undefined;
    });
    const downMs = Date.now() - t0;
    await until('3 tasks running on h1 and h2', 20_000, async () => {
      const nodes = await nodeOf('survive');
      return nodes.length === 3 && !nodes.includes('h3') ? true : undefined;
    });
    console.log(`      (h3 Down after ${downMs} ms; tasks rescheduled after ${Date.now() - t0} ms)`);
    await lab.startDaemon('h3');
    await until('h3 Ready again', 15_000, async () => {
      const n = jsonLines(await tswarmOk(lab, 'h1', 'node', 'ls', '--format', 'json'));
      return n.find((x) => x['Hostname'] === 'h3')?.['Status'] === 'Ready' ? true : undefined;
    });
    await tswarmOk(lab, 'h1', 'service', 'rm', 'survive');
  });

  describe('bad input gets one clear line and changes nothing', function () {
    const services = async () => (await tswarmOk(lab, 'h1', 'service', 'ls', '-q')).trim();
    let existing = '';
    before(async function () {
      existing = await services();
    });

    it('refuses an unknown flag with exit 125', async function () {
      const r = await lab.tswarm('h1', 'service', 'create', '--replicaz', '2', 'tswarm/busybox');
      assert.equal(r.code, 125);
      assert.equal(r.stderr.trim().split('\n').length, 1);
      assert.match(r.stderr, /unknown flag: --replicaz/);
      assert.equal(await services(), existing);
    });

    it('refuses a bad constraint', async function () {
      const r = await lab.tswarm('h1', 'service', 'create', '--constraint', 'node.colour==red', 'tswarm/busybox');
      assert.notEqual(r.code, 0);
      assert.equal(r.stderr.trim().split('\n').length, 1);
      assert.match(r.stderr, /constraint/);
      assert.equal(await services(), existing);
    });

    it('refuses a duplicate service name', async function () {
      await tswarmOk(lab, 'h1', 'service', 'create', '-d', '--name', 'dup', 'tswarm/busybox', 'httpd', '-f', '-p', '80');
      const r = await lab.tswarm('h2', 'service', 'create', '-d', '--name', 'DUP', 'tswarm/busybox', 'httpd', '-f', '-p', '80');
      assert.equal(r.code, 1);
      assert.match(r.stderr, /^Error: .*already in use/);
      assert.equal((await services()).split('\n').filter(Boolean).length, existing.split('\n').filter(Boolean).length + 1);
      await tswarmOk(lab, 'h1', 'service', 'rm', 'dup');
    });

    it('rejects a task whose image cannot be pulled, with Docker\'s message', async function () {
      await tswarmOk(lab, 'h1', 'service', 'create', '-d', '--name', 'noimage', 'nginx:latest');
      const row = await until('a rejected task', 30_000, async () => {
        const rows = jsonLines(await tswarmOk(lab, 'h1', 'service', 'ps', '--format', 'json', 'noimage'));
        return rows.find((t) => /Rejected/.test(t['CurrentState'] ?? ''));
      });
      assert.match(row['Error'] ?? '', /No such image: nginx:latest/);
      await tswarmOk(lab, 'h1', 'service', 'rm', 'noimage');
    });

    it('refuses a wrong join token and leaves the node outside the swarm', async function () {
      const good = (await tswarmOk(lab, 'h1', 'swarm', 'join-token', '-q', 'worker')).trim();
      const wrong = good.slice(0, -5) + (good.endsWith('aaaaa') ? 'bbbbb' : 'aaaaa');
      const r = await lab.tswarm('h4', 'swarm', 'join', '--token', wrong, `${lab.host('h1').address}:2377`);
      assert.equal(r.code, 1);
      assert.equal(r.stderr.trim().split('\n').length, 1);
      assert.match(r.stderr, /invalid join token/);
      assert.match(await tswarmOk(lab, 'h4', 'info'), / Swarm: inactive\n/);
      const malformed = await lab.tswarm('h4', 'swarm', 'join', '--token', 'SWMTKN-1-nope', `${lab.host('h1').address}:2377`);
      assert.notEqual(malformed.code, 0);
      assert.match(malformed.stderr, /invalid join token/);
      assert.equal(jsonLines(await tswarmOk(lab, 'h1', 'node', 'ls', '--format', 'json')).length, 3);
    });
  });
});

describe('cluster: three managers survive losing the leader', function () {
  let lab: Lab;

  before(async function () {
    lab = await Lab.up(3, { prefix: 'tswm', subnet: '192.168.218.0/24' });
    await formSwarm(lab, 'h1', { h2: 'manager', h3: 'manager' }, INIT_ARGS);
  });

  after(async function () {
    await Lab.destroy('tswm');
  });

  it('answers from a new leader after the leader is killed, and services keep running', async function () {
    await until('three reachable managers', 20_000, async () => {
      const n = jsonLines(await tswarmOk(lab, 'h1', 'node', 'ls', '--format', 'json'));
      const s = n.map((x) => x['ManagerStatus']).sort();
      return s.join(',') === 'Leader,Reachable,Reachable' ? true : undefined;
    });
    await tswarmOk(lab, 'h1', 'service', 'create', '--name', 'keep', '--replicas', '3', 'tswarm/busybox', 'httpd', '-f', '-p', '80');
    const containers = await labContainers(lab, 'label=com.tswarm.service.name=keep');
    assert.equal(containers.length, 3);
    await lab.killDaemon('h1');
    const t0 = Date.now();
    const nodes = await until('node ls from a new leader', 15_000, async () => {
      const n = jsonLines(await tswarmOk(lab, 'h2', 'node', 'ls', '--format', 'json'));
      return n.some((x) => x['ManagerStatus'] === 'Leader' && x['Hostname'] !== 'h1') ? n : undefined;
    });
    console.log(`      (new leader answering after ${Date.now() - t0} ms)`);
    assert.equal(nodes.length, 3);
    // The containers on the surviving hosts were not touched.
    const still = await labContainers(lab, 'label=com.tswarm.service.name=keep');
    const lost = containers.filter((c) => !still.includes(c));
    assert.ok(lost.length <= 1, `containers stopped: ${lost.length}`);
    await tswarmOk(lab, 'h3', 'service', 'scale', 'keep=2');
    assert.equal((await runningTasks(lab, 'h3', 'keep')).length, 2);
  });

  it('the killed leader\'s node comes back Ready as a follower: its agent, which knew only the manager beside it, goes to the leader that manager names', async function () {
    await lab.startDaemon('h1');
    // Ready: its agent has a session; Reachable (or Leader): its manager is back in the group.
    // On both h2 and h3, so on a follower whichever leads: a follower hears only from the
    // leader and shows what the leader sees of the others (RaftMembership.Members).
    const h1 = await until('h1 Ready and reachable again, seen from h2 and from h3', 20_000, async () => {
      const rows = [];
      for (const host of ['h2', 'h3']) {
        const row = jsonLines(await tswarmOk(lab, host, 'node', 'ls', '--format', 'json')).find((x) => x['Hostname'] === 'h1');
        if (row?.['Status'] !== 'Ready' || !['Reachable', 'Leader'].includes(String(row['ManagerStatus']))) return undefined;
        rows.push(row);
      }
      return rows[0];
    });
    assert.equal(h1['ManagerStatus'], 'Reachable', `h1 is not the leader: its agent had to find the leader elsewhere (${JSON.stringify(h1)})`);
  });
});
