// Control-plane recovery on lab hosts with the real Docker Engine: `service logs` answers on
// every manager (a follower forwards to the leader over the cluster port) and a follow ends
// with one line when the leader dies; then a swarm that lost two of its three managers for
// good is brought back by `swarm init --force-new-cluster` on the survivor, keeping its
// services, nodes and running tasks. h4 stays outside the swarm.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { formSwarm, jsonLines, Lab, labContainers, runningTasks, tswarmOk, until } from '../src/index.js';

const PREFIX = 'tswf';
const SUBNET = '192.168.240.0/24';
/** A 1 s heartbeat: lost nodes are Down 3 s after the new leader's dispatcher starts. */
const INIT_ARGS = ['--dispatcher-heartbeat', '1s'];
const TALKER = ['sh', '-c', 'echo hello from $(hostname); while true; do echo tick; sleep 1; done'];
const NO_LEADER = /The swarm does not have a leader/;

describe('recovery: logs on any manager, and a new cluster forced after losing quorum', function () {
  let lab: Lab;
  const managerStatus = async (on: string): Promise<Record<string, string>> => {
    const nodes = jsonLines(await tswarmOk(lab, on, 'node', 'ls', '--format', 'json'));
    return Object.fromEntries(nodes.map((n) => [n['Hostname']!, n['ManagerStatus'] ?? '']));
  };
  const leaderHost = async (on: string) => Object.entries(await managerStatus(on)).find(([, s]) => s === 'Leader')?.[0];

  before(async function () {
    lab = await Lab.up(4, { prefix: PREFIX, subnet: SUBNET });
    await formSwarm(lab, 'h1', { h2: 'manager', h3: 'manager' }, INIT_ARGS);
    await until('three reachable managers', 30_000, async () => {
      const s = Object.values(await managerStatus('h1')).sort().join(',');
      return s === 'Leader,Reachable,Reachable' ? true : undefined;
    });
    await tswarmOk(lab, 'h1', 'service', 'create', '--name', 'talker', '--replicas', '3', 'tswarm/busybox', ...TALKER);
  });

  after(async function () {
    // TSWARM_LAB_KEEP=1 keeps the hosts and their logs for debugging (remove with `npm run lab -- down`).
    if (process.env['TSWARM_LAB_KEEP'] !== '1') await Lab.destroy(PREFIX);
  });

  it('service logs answers on a manager that is not the leader', async function () {
    const leader = await leaderHost('h1');
    const follower = ['h1', 'h2', 'h3'].find((h) => h !== leader)!;
    const lines = await until(`every replica's first line, asked on ${follower}`, 20_000, async () => {
      const r = await lab.tswarm(follower, 'service', 'logs', 'talker');
      const hello = r.stdout.split('\n').filter((l) => l.includes('hello from'));
      return r.code === 0 && hello.length === 3 ? hello : undefined;
    });
    for (const l of lines) assert.match(l, /^talker\.[123]\.\w+@h[123] +\| hello from /);
  });

  it('service logs -f on a follower streams until the leader dies, then ends with one line', async function () {
    const leader = (await leaderHost('h1'))!;
    const follower = ['h1', 'h2', 'h3'].find((h) => h !== leader)!;
    const [cmd, ...args] = lab.execArgv(follower, ['tswarm', 'service', 'logs', '-f', '--tail', '1', 'talker']);
    const cli = spawn(cmd!, args, { env: lab.env(follower), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    cli.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    cli.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    const exited = new Promise<number>((resolve) => cli.on('close', (code) => resolve(code ?? -1)));
    try {
      // --tail 1 gives at most one line per task; more ticks mean the stream follows.
      await until('followed lines keep coming', 20_000, async () => (out.split('\n').filter((l) => l.endsWith('| tick')).length >= 6 ? true : undefined));
      await lab.killDaemon(leader);
      const code = await Promise.race([exited, new Promise<number>((r) => setTimeout(() => r(-2), 15_000))]);
      assert.equal(code, 1, `the CLI should end with exit code 1 (stderr: ${err.trim()})`);
      assert.equal(err.trim().split('\n').length, 1, err);
      assert.match(err, /log stream ended: the leader manager that collects the logs changed \(was 192\.168\.240\.\d+\); run the command again/);
    } finally {
      if (cli.exitCode === null) cli.kill('SIGKILL');
    }
    await until('a new leader', 20_000, async () => {
      const l = await leaderHost(follower);
      return l && l !== leader ? l : undefined;
    });
  });

  it('swarm init --force-new-cluster brings back a swarm that lost two of three managers', async function () {
    // h1 or whichever led is gone; lose one more manager for good, keeping `survivor`.
    const alive = ['h1', 'h2', 'h3'].filter((h) => lab.daemonPid(h) !== undefined);
    assert.equal(alive.length, 2);
    const [survivor, doomed] = alive as [string, string];
    const kept = (await runningTasks(lab, survivor, 'talker')).filter((t) => t.Node === survivor).map((t) => t.ID);
    assert.equal(kept.length, 1, 'one talker task runs on the survivor');
    const containers = await labContainers(lab, 'label=com.tswarm.service.name=talker');
    await lab.killDaemon(doomed);

    const refused = await until('node ls refused without quorum', 20_000, async () => {
      const r = await lab.tswarm(survivor, 'node', 'ls');
      return r.code !== 0 && NO_LEADER.test(r.stderr) ? r : undefined;
    });
    assert.equal(refused.stderr.trim().split('\n').length, 1);

    const t0 = Date.now();
    const init = await tswarmOk(lab, survivor, 'swarm', 'init', '--force-new-cluster');
    assert.match(init, /Swarm initialized: current node \(\w+\) is now a manager/);
    console.log(`      (forced a new cluster in ${Date.now() - t0} ms)`);

    const status = await managerStatus(survivor);
    assert.equal(status[survivor], 'Leader');
    assert.deepEqual(Object.keys(status).sort(), ['h1', 'h2', 'h3'], 'the lost managers\' node objects remain');
    assert.match(await tswarmOk(lab, survivor, 'service', 'ls'), /\btalker\b/);
    // The survivor's task was never restarted; no container of the service was stopped.
    const running = await until('the survivor\'s task running under the new cluster', 20_000, async () => {
      const ids = (await runningTasks(lab, survivor, 'talker')).map((t) => t.ID);
      return kept.every((id) => ids.includes(id)) ? ids : undefined;
    });
    assert.ok(running.length >= 1);
    const still = await labContainers(lab, 'label=com.tswarm.service.name=talker');
    assert.ok(containers.every((c) => still.includes(c)), 'every talker container is still running');

    // The lost managers' nodes go Down (they are workers now, as if demoted); their tasks move.
    await until('the lost managers Down', 30_000, async () => {
      const nodes = jsonLines(await tswarmOk(lab, survivor, 'node', 'ls', '--format', 'json'));
      const down = nodes.filter((n) => n['Hostname'] !== survivor);
      return down.every((n) => n['Status'] === 'Down' && !n['ManagerStatus']) ? true : undefined;
    });
    await until('three talker tasks running on the survivor', 30_000, async () => {
      const nodes = (await runningTasks(lab, survivor, 'talker')).map((t) => t.Node);
      return nodes.length === 3 && nodes.every((n) => n === survivor) ? true : undefined;
    });

    // Writes work again: a new service converges, and a lost manager can be removed.
    await tswarmOk(lab, survivor, 'service', 'create', '--name', 'after', '--replicas', '1', 'tswarm/busybox', 'httpd', '-f', '-p', '80');
    assert.equal((await runningTasks(lab, survivor, 'after')).length, 1);
    await tswarmOk(lab, survivor, 'node', 'rm', doomed);
    assert.deepEqual(Object.keys(await managerStatus(survivor)).sort(), ['h1', 'h2', 'h3'].filter((h) => h !== doomed));
  });

  it('refuses --force-new-cluster outside a swarm and with flags it cannot honour, changing nothing', async function () {
    const outside = await lab.tswarm('h4', 'swarm', 'init', '--force-new-cluster');
    assert.equal(outside.code, 1);
    assert.equal(outside.stderr.trim().split('\n').length, 1);
    assert.match(outside.stderr, /not part of a swarm; --force-new-cluster restarts a manager of an existing swarm/);
    assert.match(await tswarmOk(lab, 'h4', 'info'), / Swarm: inactive\n/);

    const survivor = ['h1', 'h2', 'h3'].find((h) => lab.daemonPid(h) !== undefined)!;
    const conflict = await lab.tswarm(survivor, 'swarm', 'init', '--force-new-cluster', '--advertise-addr', '10.9.9.9');
    assert.equal(conflict.code, 125);
    assert.match(conflict.stderr, /cannot be combined with --advertise-addr/);
    assert.equal((await managerStatus(survivor))[survivor], 'Leader');
  });
});
