// The test-host lab itself: underlay connectivity, one daemon per host inside its namespace,
// the CLI's answer when no daemon listens, a clean `down`, and recovery from a crashed run.
// Prefix "tswt" and its own subnet, so a demo lab ("tsw") can stay up while these run.
import assert from 'node:assert/strict';
import { existsSync, readlinkSync } from 'node:fs';
import { Lab, LAB_LABEL, listNetns, listRootLinks, pidAlive, RunResult, STATE_ROOT } from '../src/index.js';
import { run } from '../src/proc.js';

const PREFIX = 'tswt';
const SUBNET = '192.168.214.0/24';
const OPTS = { prefix: PREFIX, subnet: SUBNET };

function ok(r: RunResult, what: string): string {
  assert.equal(r.code, 0, `${what} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

/** Everything of lab PREFIX still visible on the machine; empty lists mean a clean teardown. */
async function leftovers(pids: number[]): Promise<Record<string, unknown[]>> {
  const containers = await run(['docker', 'ps', '-aq', '--filter', `label=${LAB_LABEL}=${PREFIX}`]);
  return {
    namespaces: (await listNetns()).filter((n) => n.startsWith(`${PREFIX}-`)),
    links: await listRootLinks(`${PREFIX}-`),
    processes: pids.filter(pidAlive),
    stateDir: existsSync(`${STATE_ROOT}/${PREFIX}`) ? [`${STATE_ROOT}/${PREFIX}`] : [],
    containers: containers.stdout.split('\n').filter((l) => l !== ''),
  };
}

const CLEAN = { namespaces: [], links: [], processes: [], stateDir: [], containers: [] };

describe('lab: three hosts on one bridge, one tswarmd each', function () {
  let lab: Lab;

  before(async function () {
    const t0 = Date.now();
    lab = await Lab.up(3, OPTS);
    console.log(`      (lab up: ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  });

  after(async function () {
    await Lab.destroy(PREFIX);
  });

  it('gives each host its own namespace with lo up and its underlay address on eth0', async function () {
    for (const [i, h] of lab.hosts.entries()) {
      assert.equal(h.address, `192.168.214.${11 + i}`);
      const addrs = ok(await lab.exec(h.name, ['ip', '-o', '-4', 'addr', 'show']), `ip addr on ${h.name}`);
      assert.match(addrs, new RegExp(`lo\\s+inet 127\\.0\\.0\\.1/8`));
      assert.match(addrs, new RegExp(`eth0\\s+inet ${h.address.replace(/\./g, '\\.')}/24`));
      const link = ok(await lab.exec(h.name, ['ip', '-o', 'link', 'show', 'eth0']), `ip link on ${h.name}`);
      assert.match(link, /mtu 1500 /);
    }
  });

  it('lets every host ping the other two over the underlay', async function () {
    for (const from of lab.hosts) {
      for (const to of lab.hosts) {
        if (from === to) continue;
        const r = await run(['ip', 'netns', 'exec', from.netns, 'ping', '-c1', '-W1', to.address]);
        assert.equal(r.code, 0, `${from.name} → ${to.name} (${to.address}): ${r.stdout.trim()} ${r.stderr.trim()}`);
      }
    }
  });

  it('runs each tswarmd inside its host namespace, answering tswarm info with its node name', async function () {
    for (const h of lab.hosts) {
      const pid = lab.daemonPid(h.name);
      assert.ok(pid !== undefined, `no live tswarmd on ${h.name}`);
      assert.equal(readlinkSync(`/proc/${pid}/ns/net`), `net:[${lab.netnsInode(h.name)}]`, `tswarmd of ${h.name} is not in ${h.netns}`);
      const info = ok(await lab.tswarm(h.name, 'info'), `tswarm info on ${h.name}`);
      assert.match(info, new RegExp(`^\\s*Name:\\s+${h.name}\\s*$`, 'm'));
      // `exec` rewrites a leading `tswarm` to the repository's CLI, with TSWARM_HOST set.
      const viaExec = ok(await lab.exec(h.name, ['tswarm', 'info']), `exec tswarm info on ${h.name}`);
      assert.match(viaExec, new RegExp(`^\\s*Name:\\s+${h.name}\\s*$`, 'm'));
    }
  });

  it('has the CLI exit 1 with one line saying how to start tswarmd when no daemon listens', async function () {
    await lab.stopDaemon('h3');
    assert.equal(lab.daemonPid('h3'), undefined);
    const r = await lab.tswarm('h3', 'info');
    assert.equal(r.code, 1, `exit code ${r.code}, stderr: ${r.stderr}`);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 1, `expected one line on stderr, got:\n${r.stderr}`);
    assert.match(lines[0]!, /tswarmd/);
    assert.match(lines[0]!, /start/i);
    // and the daemon comes back
    await lab.startDaemon('h3');
    ok(await lab.tswarm('h3', 'info'), 'tswarm info on h3 after restart');
  });

  it('restarts a SIGKILLed daemon despite its stale pid file and socket', async function () {
    const old = await lab.killDaemon('h2');
    assert.ok(old !== undefined && !pidAlive(old));
    assert.ok(existsSync(lab.host('h2').socket), 'a crash leaves the socket behind');
    const pid = await lab.startDaemon('h2');
    assert.notEqual(pid, old);
    ok(await lab.tswarm('h2', 'info'), 'tswarm info on h2 after restart');
  });

  it('down leaves no namespace, link, bridge, process, container or state behind', async function () {
    const pids = lab.hosts.map((h) => lab.daemonPid(h.name)).filter((p): p is number => p !== undefined);
    assert.equal(pids.length, 3);
    // A stray process inside a host namespace, as a test's iperf3 server would be.
    const stray = Number(ok(await lab.exec('h1', ['sh', '-c', 'sleep 300 >/dev/null 2>&1 & echo $!']), 'stray sleep').trim());
    pids.push(stray);
    // A container as a daemon would leave it, labelled with the lab's prefix.
    ok(
      await run(['docker', 'create', '--network', 'none', '--label', `${LAB_LABEL}=${PREFIX}`, 'tswarm/busybox:latest', 'sleep', '300']),
      'docker create',
    );
    const t0 = Date.now();
    const report = await lab.down();
    console.log(`      (lab down: ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    assert.deepEqual(report.netns.sort(), [`${PREFIX}-h1`, `${PREFIX}-h2`, `${PREFIX}-h3`, `${PREFIX}-sw`]);
    assert.equal(report.containers.length, 1);
    assert.deepEqual(await leftovers(pids), CLEAN);
  });
});

describe('lab: recovery from a crashed run', function () {
  after(async function () {
    await Lab.destroy(PREFIX);
  });

  it('brings a lab up again over a crashed one with the same prefix, ending the old daemons', async function () {
    const crashed = await Lab.up(3, OPTS);
    const oldPids = crashed.hosts.map((h) => crashed.daemonPid(h.name)!);
    assert.ok(oldPids.every((p) => p !== undefined && pidAlive(p)));
    await crashed.killDaemon('h2');
    // The run "crashes" here: no down(); namespaces, pid files, two live daemons stay behind.

    const t0 = Date.now();
    const lab = await Lab.up(3, OPTS);
    console.log(`      (lab up over a crashed lab: ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
    assert.deepEqual(oldPids.filter(pidAlive), [], 'daemons of the crashed lab still run');
    for (const h of lab.hosts) {
      const pid = lab.daemonPid(h.name);
      assert.ok(pid !== undefined && !oldPids.includes(pid), `${h.name} has no new daemon`);
      assert.match(ok(await lab.tswarm(h.name, 'info'), `tswarm info on ${h.name}`), new RegExp(`Name:\\s+${h.name}`));
    }
    const pids = lab.hosts.map((h) => lab.daemonPid(h.name)!);
    await lab.down();
    assert.deepEqual(await leftovers([...oldPids, ...pids]), CLEAN);
  });

  it('down also clears a lab whose daemons were never started', async function () {
    const lab = await Lab.up(2, { ...OPTS, startDaemons: false });
    assert.deepEqual(lab.status().map((s) => s.daemonAlive), [false, false]);
    ok(await run(['ip', 'netns', 'exec', lab.host('h1').netns, 'ping', '-c1', '-W1', lab.host('h2').address]), 'ping h1 → h2');
    await Lab.destroy(PREFIX);
    assert.deepEqual(await leftovers([]), CLEAN);
  });
});
