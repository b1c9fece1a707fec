import { strict as assert } from 'node:assert';
import { NodeAvailability, NodeState, PublishMode, TaskState } from '@tswarm/api';
import { renderTaskList } from '../src/index.js';
import { FakeDaemon, INFO } from './fake.js';
import { node, service, spec, task } from './fixtures.js';

const WEB = 'web0123456789abcdefghijkl';
const AGENT = 'agt0123456789abcdefghijkl';
const N1 = INFO.swarm!.nodeId;
const N2 = 'node2bbbbbbbbbbbbbbbbbbbbb';
const N10 = 'node10cccccccccccccccccccc';

describe('tswarm tables', () => {
  const fake = new FakeDaemon();
  before(() => fake.start());
  after(() => fake.stop());
  beforeEach(() => fake.reset());

  describe('service ls', () => {
    beforeEach(() => {
      fake.handlers['listServices'] = () => ({
        services: [
          service(WEB, spec('web', 'nginx:1.25@sha256:0123abcd', { $case: 'replicated', value: { replicas: 3 } }, [[8080, 80], [9000, 9000, PublishMode.PUBLISH_MODE_HOST]])),
          service(AGENT, spec('agent', 'busybox', { $case: 'global', value: {} })),
        ],
        counts: { [WEB]: { running: 2, desired: 3 }, [AGENT]: { running: 3, desired: 3 } },
      });
    });

    it('prints ID NAME MODE REPLICAS IMAGE PORTS sorted by name, ingress ports only', async () => {
      const r = await fake.tswarm(['service', 'ls']);
      assert.equal(r.code, 0, r.err);
      assert.equal(r.out, [
        'ID             NAME      MODE         REPLICAS   IMAGE        PORTS',
        'agt012345678   agent     global       3/3        busybox      ',
        'web012345678   web       replicated   2/3        nginx:1.25   *:8080->80/tcp',
        '',
      ].join('\n'));
    });

    it('prints short IDs with -q and JSON lines with --format json', async () => {
      assert.equal((await fake.tswarm(['service', 'ls', '-q'])).out, 'agt012345678\nweb012345678\n');
      const lines = (await fake.tswarm(['service', 'ls', '--format', 'json'])).out.trim().split('\n');
      assert.equal(lines[1], '{"ID":"web012345678","Image":"nginx:1.25","Mode":"replicated","Name":"web","Ports":"*:8080->80/tcp","Replicas":"2/3"}');
    });
  });

  describe('service ps', () => {
    const now = 1_700_000_000_000;
    const tasks = [
      task('t3aaaaaaaaaaaaaaaaaaaaaaa', WEB, 1, N1, TaskState.TASK_STATE_RUNNING, { atMs: now - 5_000, createdMs: 30 }),
      task('t1aaaaaaaaaaaaaaaaaaaaaaa', WEB, 1, N2, TaskState.TASK_STATE_FAILED, { desired: TaskState.TASK_STATE_SHUTDOWN, atMs: now - 90_000, createdMs: 10, err: 'task: non-zero exit (1): the container crashed on start' }),
      task('t2aaaaaaaaaaaaaaaaaaaaaaa', WEB, 2, N2, TaskState.TASK_STATE_RUNNING, { atMs: now - 400, createdMs: 20 }),
      task('t4aaaaaaaaaaaaaaaaaaaaaaa', WEB, 10, '', TaskState.TASK_STATE_PENDING, { atMs: now - 3 * 3_600_000, createdMs: 40, message: 'no suitable node (2 nodes drained)' }),
    ];
    const opts = {
      quiet: false, noTrunc: false, format: 'table' as const, nowMs: now,
      nodeNames: new Map([[N1, 'h1'], [N2, 'h2']]), serviceNames: new Map([[WEB, 'web']]),
    };

    it('groups history under its slot, newest first, with relative times and quoted errors', () => {
      assert.deepEqual(renderTaskList(tasks, opts), [
        'ID             NAME        IMAGE        NODE      DESIRED STATE   CURRENT STATE                    ERROR                              PORTS',
        't3aaaaaaaaaa   web.1       nginx:1.25   h1        Running         Running 5 seconds ago                                               ',
        't1aaaaaaaaaa    \\_ web.1   nginx:1.25   h2        Shutdown        Failed about a minute ago        "task: non-zero exit (1): the …"   ',
        't2aaaaaaaaaa   web.2       nginx:1.25   h2        Running         Running less than a second ago                                      ',
        't4aaaaaaaaaa   web.10      nginx:1.25             Running         Pending 3 hours ago              "no suitable node (2 nodes dra…"   ',
      ]);
    });

    it('prints whole IDs and errors with --no-trunc, and JSON without the history indent', () => {
      const full = renderTaskList(tasks, { ...opts, noTrunc: true });
      assert.match(full[2]!, /^t1aaaaaaaaaaaaaaaaaaaaaaa +\\_ web\.1 .*"task: non-zero exit \(1\): the container crashed on start"/);
      const json = renderTaskList(tasks, { ...opts, format: 'json' }).map((l) => JSON.parse(l));
      assert.equal(json[1].Name, 'web.1');
      assert.equal(json[1].CurrentState, 'Failed about a minute ago');
    });

    it('asks for history of the resolved service and prints IDs with -q', async () => {
      fake.handlers['getService'] = () => ({ service: service(WEB, spec('web', 'nginx', { $case: 'replicated', value: { replicas: 2 } })) });
      fake.handlers['listTasks'] = () => ({ tasks });
      fake.handlers['listNodes'] = () => ({ nodes: [node(N1, 'h1'), node(N2, 'h2')] });
      const r = await fake.tswarm(['service', 'ps', '-q', 'web']);
      assert.equal(r.code, 0, r.err);
      assert.equal(r.out, 't3aaaaaaaaaa\nt1aaaaaaaaaa\nt2aaaaaaaaaa\nt4aaaaaaaaaa\n');
      assert.deepEqual(fake.only('getService'), { serviceId: 'web' });
      assert.deepEqual(fake.only('listTasks'), { serviceId: WEB, nodeId: '', includeHistory: true });
    });

    it('says which service is unknown, exit 1', async () => {
      fake.handlers['getService'] = () => {
        throw Object.assign(new Error('service nope not found'), { code: 5 });
      };
      const r = await fake.tswarm(['service', 'ps', 'nope']);
      assert.deepEqual([r.code, r.err], [1, 'Error: service nope not found\n']);
    });
  });

  describe('node ls', () => {
    beforeEach(() => {
      fake.handlers['listNodes'] = () => ({
        nodes: [
          node(N10, 'h10', { state: NodeState.NODE_STATE_DOWN, availability: NodeAvailability.NODE_AVAILABILITY_DRAIN }),
          node(N1, 'h1', { manager: 'leader' }),
          node(N2, 'h2', { manager: 'unreachable', availability: NodeAvailability.NODE_AVAILABILITY_PAUSE, engine: '24.0.7' }),
        ],
      });
    });

    it('marks this node with *, sorts by hostname naturally, shows manager status', async () => {
      const r = await fake.tswarm(['node', 'ls']);
      assert.equal(r.code, 0, r.err);
      assert.equal(r.out, [
        'ID                             HOSTNAME   STATUS    AVAILABILITY   MANAGER STATUS   ENGINE VERSION',
        `${N1} *   h1         Ready     Active         Leader           20.10.24`,
        `${N2}     h2         Ready     Pause          Unreachable      24.0.7`,
        `${N10}     h10        Down      Drain                           20.10.24`,
        '',
      ].join('\n'));
    });

    it('prints whole IDs with -q and JSON lines with --format json', async () => {
      assert.equal((await fake.tswarm(['node', 'ls', '-q'])).out, `${N1}\n${N2}\n${N10}\n`);
      const first = JSON.parse((await fake.tswarm(['node', 'ls', '--format', 'json'])).out.split('\n')[0]!);
      assert.deepEqual(first, { Availability: 'Active', EngineVersion: '20.10.24', Hostname: 'h1', ID: N1, ManagerStatus: 'Leader', Self: true, Status: 'Ready' });
    });
  });
});
