// node promote / node demote on lab hosts: the promoted worker renews its certificate as a
// manager, starts a manager and joins Raft; the demoted manager is removed from Raft by the
// leader, stops its manager (keeping its agent) and renews as a worker.
import assert from 'node:assert/strict';
import { formSwarm, jsonLines, Lab, tswarmOk, until } from '../src/index.js';

const PREFIX = 'tswp';
const SUBNET = '192.168.219.0/24';
/** A 1 s heartbeat: the leader's session messages (and so role changes) reach agents fast. */
const INIT_ARGS = ['--dispatcher-heartbeat', '1s'];
const WORKER_MESSAGE = /Worker nodes can't be used to view or modify cluster state/;

/** The fields of `node inspect` these tests read. */
interface NodeJson {
  Spec: { Role: string };
  ManagerStatus?: { Leader?: boolean; Reachability: string; Addr: string };
}

describe('promote and demote on lab hosts', function () {
  let lab: Lab;
  const managerStatus = async (on: string): Promise<Record<string, string> | undefined> => {
    const r = await lab.tswarm(on, 'node', 'ls', '--format', 'json');
    if (r.code !== 0) return undefined;
    return Object.fromEntries(jsonLines(r.stdout).map((n) => [n['Hostname']!, n['ManagerStatus'] ?? '']));
  };

  /** `node inspect` as Docker prints it: Spec.Role the desired role, ManagerStatus from live Raft. */
  const inspect = async (host: string): Promise<NodeJson> => (JSON.parse(await tswarmOk(lab, 'h1', 'node', 'inspect', host)) as NodeJson[])[0]!;

  before(async function () {
    lab = await Lab.up(3, { prefix: PREFIX, subnet: SUBNET });
    await formSwarm(lab, 'h1', { h2: 'worker', h3: 'worker' }, INIT_ARGS);
  });

  after(async function () {
    // TSWARM_LAB_KEEP=1 keeps the hosts and their logs for debugging (remove with `npm run lab -- down`).
    if (process.env['TSWARM_LAB_KEEP'] !== '1') await Lab.destroy(PREFIX);
  });

  it('a promoted worker becomes a reachable manager that answers cluster commands', async function () {
    const r = await lab.tswarm('h2', 'node', 'ls');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, WORKER_MESSAGE);

    await tswarmOk(lab, 'h1', 'node', 'promote', 'h2');
    const status = await until('h2 Reachable in node ls', 20_000, async () => {
      const s = await managerStatus('h1');
      return s?.['h2'] === 'Reachable' ? s : undefined;
    });
    assert.deepEqual(status, { h1: 'Leader', h2: 'Reachable', h3: '' });
    const [h1, h2] = [await inspect('h1'), await inspect('h2')];
    assert.deepEqual([h2.Spec.Role, h2.ManagerStatus], ['manager', { Reachability: 'reachable', Addr: `${lab.host('h2').address}:2377` }]);
    assert.deepEqual([h1.Spec.Role, h1.ManagerStatus?.Leader], ['manager', true]);
    // h2 runs a manager now: it answers `node ls` itself, from its own replica.
    const onH2 = await until('node ls works on h2', 20_000, () => managerStatus('h2'));
    assert.deepEqual(Object.keys(onH2).sort(), ['h1', 'h2', 'h3']);
    assert.match(await tswarmOk(lab, 'h2', 'info'), /Is Manager: true/);
  });

  it('a demoted manager goes back to being a worker', async function () {
    await tswarmOk(lab, 'h1', 'node', 'demote', 'h2');
    await until('h2 a worker in node ls', 20_000, async () => {
      const s = await managerStatus('h1');
      return s?.['h2'] === '' && s['h1'] === 'Leader' ? s : undefined;
    });
    const refused = await until('node ls refused on h2', 20_000, async () => {
      const r = await lab.tswarm('h2', 'node', 'ls');
      return r.code !== 0 && WORKER_MESSAGE.test(r.stderr) ? r : undefined;
    });
    assert.match(refused.stderr, WORKER_MESSAGE);
    const h2 = await inspect('h2');
    assert.deepEqual([h2.Spec.Role, h2.ManagerStatus], ['worker', undefined]);
    // Still a member of the swarm, with its agent: it stays Ready.
    const nodes = jsonLines(await tswarmOk(lab, 'h1', 'node', 'ls', '--format', 'json'));
    assert.equal(nodes.find((n) => n['Hostname'] === 'h2')?.['Status'], 'Ready');
  });

  it('refuses to demote the last manager', async function () {
    const r = await lab.tswarm('h1', 'node', 'demote', 'h1');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /cannot demote the last manager/);
    assert.deepEqual(await managerStatus('h1'), { h1: 'Leader', h2: '', h3: '' });
  });

  it('demoting the leader hands leadership over first; a node can be promoted again', async function () {
    await tswarmOk(lab, 'h1', 'node', 'promote', 'h2');
    // h2 joins as a learner and is recorded as a manager once it votes; until then demoting
    // h1 is refused as demoting the last manager, and nothing changes.
    await until('h1 demoted once h2 counts as a manager', 20_000, async () => {
      const r = await lab.tswarm('h1', 'node', 'demote', 'h1');
      if (r.code === 0) return true;
      if (!/cannot demote the last manager/.test(r.stderr)) throw new Error(r.stderr.trim());
      return undefined;
    });
    const status = await until('h2 leads and h1 is a worker', 30_000, async () => {
      const s = await managerStatus('h2');
      return s?.['h2'] === 'Leader' && s['h1'] === '' ? s : undefined;
    });
    assert.deepEqual(status, { h1: '', h2: 'Leader', h3: '' });
    await until('node ls refused on h1', 20_000, async () => {
      const r = await lab.tswarm('h1', 'node', 'ls');
      return r.code !== 0 && WORKER_MESSAGE.test(r.stderr) ? true : undefined;
    });
  });
});
