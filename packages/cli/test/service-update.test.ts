import { strict as assert } from 'node:assert';
import { PublishMode, RestartCondition, ServiceSpec } from '@tswarm/api';
import { FakeDaemon } from './fake.js';
import { node, service, spec } from './fixtures.js';

const WEB = 'web0123456789abcdefghijkl';

function current(): ServiceSpec {
  const s = spec('web', 'nginx:1.24', { $case: 'replicated', value: { replicas: 2 } }, [[8080, 80], [8443, 443]]);
  s.task!.container!.env = ['A=1', 'B=2'];
  s.task!.placement = { constraints: ['node.role==worker'] };
  s.labels = { tier: 'front' };
  return s;
}

describe('tswarm service update, scale, rollback, rm, logs', () => {
  const fake = new FakeDaemon();
  before(() => fake.start());
  after(() => fake.stop());
  beforeEach(() => {
    fake.reset();
    fake.handlers['getService'] = () => ({ service: service(WEB, current(), 42) });
    fake.handlers['updateService'] = () => ({});
  });

  it('changes only what the flags say and sends the version it read', async () => {
    const r = await fake.tswarm([
      'service', 'update', '-d', '--image', 'nginx:1.25', '--env-rm', 'A', '--env-add', 'B=3', '--env-add', 'C=4',
      '--constraint-rm', 'node.role==worker', '--constraint-add', 'node.labels.zone==a', '--label-add', 'v=2', '--label-rm', 'tier',
      '--publish-rm', '443', '--publish-add', 'mode=host,9000:9000', '--replicas', '5', '--restart-max-attempts', '3', '--force', 'web',
    ]);
    assert.deepEqual([r.code, r.out], [0, 'web\n'], r.err);
    const req = fake.only('updateService');
    assert.equal(req.serviceId, WEB);
    assert.equal(req.serviceVersion, 42);
    assert.equal(req.rollback, false);
    const want = current();
    want.task!.container!.image = 'nginx:1.25';
    want.task!.container!.env = ['B=3', 'C=4'];
    want.task!.placement = { constraints: ['node.labels.zone==a'] };
    want.labels = { v: '2' };
    want.endpoint!.ports = [want.endpoint!.ports[0]!, { name: '', protocol: 0, targetPort: 9000, publishedPort: 9000, publishMode: PublishMode.PUBLISH_MODE_HOST }];
    want.mode = { $case: 'replicated', value: { replicas: 5 } };
    // Restart policy absent before: Docker's defaults, with the one given field.
    want.task!.restart = { condition: RestartCondition.RESTART_CONDITION_ANY, delayMs: 5000, maxAttempts: 3, windowMs: 0 };
    want.task!.forceUpdate = 1;
    // Update and rollback configs absent before: filled with Docker's defaults.
    want.update = { parallelism: 1, delayMs: 0, failureAction: 0, monitorMs: 5000, maxFailureRatio: 0, order: 0 };
    want.rollback = { ...want.update };
    assert.deepEqual(req.spec, want);
  });

  it('--rollback asks for the previous spec and cannot be mixed with changes', async () => {
    let r = await fake.tswarm(['service', 'update', '-d', '--rollback', 'web']);
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(fake.only('updateService'), { serviceId: WEB, serviceVersion: 42, spec: undefined, rollback: true });
    fake.calls.length = 0;
    r = await fake.tswarm(['service', 'update', '--rollback', '--image', 'x', 'web']);
    assert.equal(r.code, 125);
    assert.match(r.err, /^--rollback cannot be combined with --image/);
    assert.deepEqual(fake.calls, []);
  });

  it('rollback sends the rollback request', async () => {
    const r = await fake.tswarm(['service', 'rollback', '-d', 'web']);
    assert.deepEqual([r.code, r.out], [0, 'web\n']);
    assert.equal(fake.only('updateService').rollback, true);
  });

  it('scale sets replicas per service and says so', async () => {
    const r = await fake.tswarm(['service', 'scale', '-d', 'web=5']);
    assert.deepEqual([r.code, r.out], [0, 'web scaled to 5\n'], r.err);
    assert.deepEqual(fake.only('updateService').spec.mode, { $case: 'replicated', value: { replicas: 5 } });
  });

  it('scale refuses a bad specifier before touching any service', async () => {
    const r = await fake.tswarm(['service', 'scale', 'web=5', 'api=many']);
    assert.equal(r.code, 125);
    assert.match(r.err, /^invalid replicas value in 'api=many': expected a whole number/);
    assert.deepEqual(fake.calls, []);
  });

  it('scale reports a global service as an error and exits 1', async () => {
    fake.handlers['getService'] = () => ({ service: service(WEB, spec('agent', 'x', { $case: 'global', value: {} })) });
    const r = await fake.tswarm(['service', 'scale', '-d', 'agent=2']);
    assert.deepEqual([r.code, r.err], [1, 'Error: agent: scale can only be used with replicated mode\n']);
  });

  it('update --replicas on a global service is refused without an update', async () => {
    fake.handlers['getService'] = () => ({ service: service(WEB, spec('agent', 'x', { $case: 'global', value: {} })) });
    const r = await fake.tswarm(['service', 'update', '--replicas', '2', 'agent']);
    assert.deepEqual([r.code, r.err], [1, 'Error: replicas can only be used with replicated mode\n']);
    assert.deepEqual(fake.calls.map((c) => c.method), ['getService']);
  });

  it('rm prints each removed service', async () => {
    fake.handlers['removeService'] = () => ({});
    const r = await fake.tswarm(['service', 'rm', 'web', 'db']);
    assert.deepEqual([r.code, r.out], [0, 'web\ndb\n']);
  });

  it('inspect prints a JSON array of the services', async () => {
    const r = await fake.tswarm(['service', 'inspect', 'web']);
    const json = JSON.parse(r.out);
    assert.equal(json[0].ID, WEB);
    assert.equal(json[0].Spec.Name, 'web');
    assert.deepEqual(json[0].Spec.Mode, { Replicated: { Replicas: 2 } });
    assert.equal(typeof json[0].Spec.TaskTemplate.ContainerSpec.Image, 'string');
    assert.equal(json[0].Spec.TaskTemplate.RestartPolicy.Condition, 'any');
    assert.match((await fake.tswarm(['service', 'inspect', '--pretty', 'web'])).out, /^ID: +web0.*\nName: +web\n[^]*\nService Mode: +Replicated\n Replicas: +2\n/);
  });

  it('logs prefixes each line with task, node and padding like Docker', async () => {
    fake.handlers['getService'] = () => ({ service: service(WEB, spec('web', 'x', { $case: 'replicated', value: { replicas: 10 } })) });
    fake.handlers['listNodes'] = () => ({ nodes: [node('n1', 'h1')] });
    fake.streams['serviceLogs'] = (_req, write) => {
      write({ taskId: 'task1aaaaaaaaaaaaaaaaaaaa', nodeId: 'n1', slot: 1, timestampMs: Date.UTC(2024, 0, 2, 3, 4, 5), stderr: false, data: Buffer.from('hello\nworld\n') });
      write({ taskId: 'task2bbbbbbbbbbbbbbbbbbbb', nodeId: 'n1', slot: 10, timestampMs: 0, stderr: true, data: Buffer.from('oops') });
    };
    const r = await fake.tswarm(['service', 'logs', '--tail', '5', 'web']);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'web.1.task1aaaaaaa@h1     | hello\nweb.1.task1aaaaaaa@h1     | world\n');
    assert.equal(r.err, 'web.10.task2bbbbbbb@h1    | oops\n');
    assert.deepEqual(fake.only('serviceLogs'), { serviceId: WEB, follow: false, tail: 5, timestamps: false });
    const t = await fake.tswarm(['service', 'logs', '-t', '--no-task-ids', 'web']);
    assert.match(t.out, /^2024-01-02T03:04:05\.000Z web\.1@h1     \| hello\n/);
  });
});
