import { strict as assert } from 'node:assert';
import {
  EndpointMode, PortProtocol, PublishMode, RestartCondition, ServiceSpec, UpdateFailureAction, UpdateOrder,
} from '@tswarm/api';
import { FakeDaemon } from './fake.js';

const SVC_ID = 'svc0123456789abcdefghijklm';

/** The spec `service create IMAGE` sends with no flags: Docker's defaults, spelled out. */
function baseSpec(): ServiceSpec {
  const update = { parallelism: 1, delayMs: 0, failureAction: UpdateFailureAction.UPDATE_FAILURE_ACTION_PAUSE, monitorMs: 5000, maxFailureRatio: 0, order: UpdateOrder.UPDATE_ORDER_STOP_FIRST };
  return {
    name: '', labels: {},
    task: {
      container: { image: 'nginx', command: [], args: [], env: [], labels: {}, stopGracePeriodMs: 0, stopSignal: '', hostname: '' },
      resources: undefined,
      restart: { condition: RestartCondition.RESTART_CONDITION_ANY, delayMs: 5000, maxAttempts: 0, windowMs: 0 },
      placement: { constraints: [] }, networks: [], forceUpdate: 0,
    },
    mode: { $case: 'replicated', value: { replicas: 1 } },
    update, rollback: { ...update },
    endpoint: { mode: EndpointMode.ENDPOINT_MODE_VIP, ports: [] },
  };
}

describe('tswarm service create', () => {
  const fake = new FakeDaemon();
  before(() => fake.start());
  after(() => fake.stop());
  beforeEach(() => {
    fake.reset();
    fake.handlers['createService'] = (req) => ({ service: { id: SVC_ID, spec: req.spec, specVersion: 1 } });
  });

  async function created(...argv: string[]): Promise<ServiceSpec> {
    const r = await fake.tswarm(['service', 'create', '-d', ...argv]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, `${SVC_ID}\n`);
    return fake.only('createService').spec;
  }

  it('sends Docker\'s defaults for a bare image and prints the service ID', async () => {
    assert.deepEqual(await created('nginx'), baseSpec());
  });

  it('maps every flag to the spec field and unit on the wire', async () => {
    const spec = await created(
      '--name', 'web', '--replicas', '3', '-e', 'A=1', '--env', 'B=two', '--label', 'tier=front', '--container-label', 'c=1',
      '--constraint', 'node.role==worker', '--constraint', 'node.labels.zone!=b',
      '--reserve-cpu', '0.25', '--reserve-memory', '64m', '--limit-cpu', '1.5', '--limit-memory', '1g',
      '--restart-condition', 'on-failure', '--restart-delay', '1m30s', '--restart-max-attempts', '4', '--restart-window', '2m',
      '--update-parallelism', '2', '--update-delay', '10s', '--update-failure-action', 'rollback', '--update-order', 'start-first',
      '--update-monitor', '30s', '--update-max-failure-ratio', '0.2',
      '--rollback-parallelism', '0', '--rollback-failure-action', 'continue', '--rollback-monitor', '1s',
      '--stop-grace-period', '20s', '--network', 'app', '--network', 'name=back,alias=db',
      '-p', '8080:80', '--publish', 'published=53,target=53,protocol=udp,mode=host', '--endpoint-mode', 'dnsrr', '--hostname', 'web-{{.Task.Slot}}',
      'nginx:1.25', 'nginx', '-g', 'daemon off;',
    );
    const want = baseSpec();
    want.name = 'web';
    want.labels = { tier: 'front' };
    want.task = {
      container: { image: 'nginx:1.25', command: [], args: ['nginx', '-g', 'daemon off;'], env: ['A=1', 'B=two'], labels: { c: '1' }, stopGracePeriodMs: 20_000, stopSignal: '', hostname: 'web-{{.Task.Slot}}' },
      resources: { limits: { nanoCpus: 1_500_000_000, memoryBytes: 1024 ** 3 }, reservations: { nanoCpus: 250_000_000, memoryBytes: 64 * 1024 ** 2 } },
      restart: { condition: RestartCondition.RESTART_CONDITION_ON_FAILURE, delayMs: 90_000, maxAttempts: 4, windowMs: 120_000 },
      placement: { constraints: ['node.role==worker', 'node.labels.zone!=b'] },
      networks: [{ target: 'app', aliases: [] }, { target: 'back', aliases: ['db'] }],
      forceUpdate: 0,
    };
    want.mode = { $case: 'replicated', value: { replicas: 3 } };
    want.update = { parallelism: 2, delayMs: 10_000, failureAction: UpdateFailureAction.UPDATE_FAILURE_ACTION_ROLLBACK, monitorMs: 30_000, maxFailureRatio: 0.2, order: UpdateOrder.UPDATE_ORDER_START_FIRST };
    want.rollback = { ...want.rollback!, parallelism: 0, failureAction: UpdateFailureAction.UPDATE_FAILURE_ACTION_CONTINUE, monitorMs: 1000 };
    want.endpoint = {
      mode: EndpointMode.ENDPOINT_MODE_DNSRR,
      ports: [
        { name: '', protocol: PortProtocol.PORT_PROTOCOL_TCP, targetPort: 80, publishedPort: 8080, publishMode: PublishMode.PUBLISH_MODE_INGRESS },
        { name: '', protocol: PortProtocol.PORT_PROTOCOL_UDP, targetPort: 53, publishedPort: 53, publishMode: PublishMode.PUBLISH_MODE_HOST },
      ],
    };
    assert.deepEqual(spec, want);
  });

  it('creates a global service', async () => {
    const spec = await created('--mode', 'global', '--name', 'agent', 'busybox', 'top');
    assert.deepEqual(spec.mode, { $case: 'global', value: {} });
    assert.deepEqual(spec.task!.container!.args, ['top']);
  });

  it('passes flags after IMAGE to the container, not to tswarm', async () => {
    const spec = await created('busybox', 'ls', '-D', '--name', 'x');
    assert.deepEqual(spec.task!.container!.args, ['ls', '-D', '--name', 'x']);
    assert.equal(spec.name, '');
  });

  const bad: Array<[string[], RegExp]> = [
    [['--replicas', 'abc', 'nginx'], /^invalid argument "abc" for "--replicas" flag: expected a whole number/],
    [['--replicas', '-1', 'nginx'], /^invalid argument "-1" for "--replicas" flag/],
    [['--mode', 'both', 'nginx'], /^invalid argument "both" for "--mode" flag: expected "replicated", "global"/],
    [['--reserve-memory', '12q', 'nginx'], /for "--reserve-memory" flag: expected a size/],
    [['--limit-cpu', 'lots', 'nginx'], /for "--limit-cpu" flag/],
    [['--restart-delay', '5', 'nginx'], /^invalid argument "5" for "--restart-delay" flag: expected a duration/],
    [['--restart-condition', 'always', 'nginx'], /for "--restart-condition" flag/],
    [['--update-max-failure-ratio', '1.5', 'nginx'], /between 0 and 1/],
    [['--update-order', 'random', 'nginx'], /for "--update-order" flag/],
    [['--rollback-failure-action', 'rollback', 'nginx'], /for "--rollback-failure-action" flag: expected "pause", "continue"/],
    [['-p', '8080:80/sctp', 'nginx'], /^invalid argument "8080:80\/sctp" for "--publish" flag: unsupported protocol/],
    [['-p', '8080:80', '-p', '8080:81', 'nginx'], /port 8080 is published more than once/],
    [['--constraint', 'node.hostname=h1', 'nginx'], /for "--constraint" flag: expected KEY==VALUE/],
    [['-e', '=x', 'nginx'], /for "--env" flag/],
    [['--endpoint-mode', 'lb', 'nginx'], /for "--endpoint-mode" flag/],
    [['--mode', 'global', '--replicas', '2', 'nginx'], /--replicas can only be used with replicated mode/],
    [['--reserve-memory', '2g', '--limit-memory', '1g', 'nginx'], /--reserve-memory cannot be larger than --limit-memory/],
    [['--name', '', 'nginx'], /for "--name" flag: may not be empty/],
    [['--bogus', 'nginx'], /^unknown flag: --bogus/],
    [['--replicas'], /^flag needs an argument: --replicas/],
    [[], /^"tswarm service create" requires at least 1 argument/],
  ];
  for (const [argv, msg] of bad) {
    it(`refuses ${JSON.stringify(argv.join(' '))} on one line, exit 125, nothing sent`, async () => {
      const r = await fake.tswarm(['service', 'create', ...argv]);
      assert.equal(r.code, 125);
      assert.equal(r.out, '');
      assert.match(r.err, msg);
      assert.match(r.err, /See 'tswarm service create --help'\.\n$/);
      assert.equal(r.err.split('\n').filter(Boolean).length, 1, r.err);
      assert.deepEqual(fake.calls, []);
    });
  }

  it('--network-alias names the service on every --network, and needs one', async () => {
    const spec = await created('--network', 'app', '--network', 'name=back,alias=db', '--network-alias', 'www', 'nginx');
    assert.deepEqual(spec.task!.networks.map((n) => [n.target, n.aliases]), [['app', ['www']], ['back', ['db', 'www']]]);
    const bad = await fake.tswarm(['service', 'create', '-d', '--network-alias', 'www', 'nginx']);
    assert.deepEqual([bad.code, bad.err.split('\n')[0]], [125, "--network-alias needs a --network to apply to. See 'tswarm service create --help'."]);
  });

  it('passes the manager\'s refusal through as one "Error:" line, exit 1', async () => {
    fake.handlers['createService'] = () => {
      throw new Error('network "app" not found; create it with \'tswarm network create -d overlay app\'');
    };
    const r = await fake.tswarm(['service', 'create', '-d', '--network', 'app', 'nginx']);
    assert.equal(r.code, 1);
    assert.equal(r.err, 'Error: network "app" not found; create it with \'tswarm network create -d overlay app\'\n');
    assert.equal(r.out, '');
  });

  it('lists its flags in Docker\'s help layout, sorted, with Docker\'s defaults', async () => {
    const r = await fake.tswarm(['service', 'create', '--help']);
    assert.equal(r.code, 0);
    assert.match(r.out, /^\nUsage:  tswarm service create \[OPTIONS\] IMAGE \[COMMAND\] \[ARG\.\.\.\]\n\nCreate a new service\n\nOptions:\n/);
    assert.match(r.out, /\n {6}--constraint list {2,}Placement constraints\n/);
    assert.match(r.out, /\n {6}--replicas uint {2,}Number of tasks\n/);
    assert.match(r.out, /\n {6}--restart-condition string {2,}Restart when condition is met \("none", "on-failure", "any"\) \(default "any"\)\n/);
    assert.match(r.out, /\n {6}--restart-delay duration {2,}Delay between restart attempts \(ns\|us\|ms\|s\|m\|h\) \(default 5s\)\n/);
    assert.match(r.out, /\n {6}--update-parallelism uint {2,}Maximum number of tasks updated simultaneously \(0 to update all at once\) \(default 1\)\n/);
    assert.match(r.out, /\n  -p, --publish port {2,}Publish a port as a node port\n/);
    const flags = [...r.out.matchAll(/^ {2}(?:-\w, | {4})--([\w-]+)/gm)].map((m) => m[1]!);
    assert.deepEqual(flags, [...flags].sort());
  });
});
