import * as assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import {
  EndpointMode,
  PortProtocol,
  PublishMode,
  RestartCondition,
  TaskState,
  UpdateFailureAction,
  UpdateState,
  type Service,
} from '@tswarm/api';
import { servicesTable, tasksTable } from '../../src/tables.js';
import { addNetwork, addTask, harness, refused, spec, T0, type Harness, type SpecInput } from './harness.js';

async function create(h: Harness, p: SpecInput = {}): Promise<Service> {
  const r = await h.api.createService({ spec: spec(p) });
  return r.service!;
}

const ingress = (targetPort: number, publishedPort = 0, protocol = PortProtocol.PORT_PROTOCOL_TCP) => ({
  targetPort,
  publishedPort,
  protocol,
  publishMode: PublishMode.PUBLISH_MODE_INGRESS,
});
const host = (targetPort: number, publishedPort: number) => ({ targetPort, publishedPort, publishMode: PublishMode.PUBLISH_MODE_HOST });

describe('control API: CreateService', () => {
  it('stores the service with spec version 1 and returns it at the version it was written', async () => {
    const h = harness();
    const s = await create(h);
    assert.equal(s.id.length, 25);
    assert.equal(s.specVersion, 1);
    assert.equal(s.meta?.version, h.store.version);
    assert.equal(s.meta?.createdAtMs, T0);
    assert.equal(s.spec?.name, 'web');
    const row = h.store.view((tx) => tx.get(servicesTable, s.id));
    assert.equal(row?.version, s.meta?.version);
  });

  it('defaults the mode to one replica, as the Docker API does', async () => {
    const h = harness();
    const s = await create(h, { mode: undefined });
    assert.deepEqual(s.spec?.mode, { $case: 'replicated', value: { replicas: 1 } });
  });

  it('generates a valid, unused name when none is given', async () => {
    const h = harness();
    const a = await create(h, { name: '' });
    const b = await create(h, { name: '' });
    assert.match(a.spec!.name, /^[a-z]+_[a-z]+(_[0-9a-z]+)?$/);
    assert.notEqual(a.spec!.name.toLowerCase(), b.spec!.name.toLowerCase());
  });

  describe('refuses a bad spec with one line and writes nothing', () => {
    const cases: Array<[string, SpecInput, RegExp]> = [
      ['no image', { task: { container: { image: '' } } }, /^an image is required/],
      ['no container at all', { task: undefined }, /^an image is required/],
      ['an invalid image', { task: { container: { image: 'nginx:' } } }, /^invalid image "nginx:"/],
      ['an upper-case image', { task: { container: { image: 'Nginx' } } }, /must be lowercase/],
      ['a name with a dot', { name: 'web.v2' }, /^invalid service name "web.v2"/],
      ['a name starting with -', { name: '-web' }, /^invalid service name/],
      ['a name of 64 characters', { name: 'a'.repeat(64) }, /the limit is 63/],
      ['a bad constraint', { task: { container: { image: 'nginx' }, placement: { constraints: ['node.hostname=h1'] } } }, /invalid constraint "node.hostname=h1"/],
      ['an unknown constraint key', { task: { container: { image: 'nginx' }, placement: { constraints: ['zone==a'] } } }, /invalid constraint "zone==a"/],
      ['an unknown restart condition', { task: { container: { image: 'nginx' }, restart: { condition: 7 as RestartCondition } } }, /invalid restart condition 7/],
      ['a negative restart delay', { task: { container: { image: 'nginx' }, restart: { delayMs: -1 } } }, /invalid restart delay -1ms/],
      [
        'a reservation above the limit',
        { task: { container: { image: 'nginx' }, resources: { limits: { memoryBytes: 64 << 20 }, reservations: { memoryBytes: 128 << 20 } } } },
        /memory reservation .* is larger than the memory limit/,
      ],
      [
        'a CPU reservation above the limit',
        { task: { container: { image: 'nginx' }, resources: { limits: { nanoCpus: 5e8 }, reservations: { nanoCpus: 1e9 } } } },
        /CPU reservation 1 is larger than the CPU limit 0.5/,
      ],
      ['a tiny memory limit', { task: { container: { image: 'nginx' }, resources: { limits: { memoryBytes: 1000 } } } }, /must be at least 4MiB/],
      ['a failure ratio above 1', { update: { maxFailureRatio: 1.5 } }, /invalid update max failure ratio 1.5: must be between 0 and 1/],
      ['a negative failure ratio', { update: { maxFailureRatio: -0.1 } }, /between 0 and 1/],
      ['a rollback that rolls back', { rollback: { failureAction: UpdateFailureAction.UPDATE_FAILURE_ACTION_ROLLBACK } }, /failure action of a rollback/],
      ['target port 0', { endpoint: { ports: [ingress(0)] } }, /invalid target port 0: must be between 1 and 65535/],
      ['target port 70000', { endpoint: { ports: [ingress(70000)] } }, /invalid target port 70000/],
      ['a published port twice', { endpoint: { ports: [ingress(80, 8080), ingress(81, 8080)] } }, /port 8080\/tcp is published more than once/],
      ['ingress publishing with dnsrr', { endpoint: { mode: EndpointMode.ENDPOINT_MODE_DNSRR, ports: [ingress(80, 8080)] } }, /needs the vip endpoint mode/],
      ['an env var without a key', { task: { container: { image: 'nginx', env: ['=x'] } } }, /invalid environment variable "=x"/],
      ['a network attached twice', { task: { container: { image: 'nginx' }, networks: [{ target: 'app' }, { target: 'app' }] } }, /attached more than once/],
    ];
    for (const [what, p, msg] of cases) {
      it(what, async () => {
        const h = harness();
        await refused(h, h.api.createService({ spec: spec(p) }), status.INVALID_ARGUMENT, msg);
      });
    }

    it('no spec at all', async () => {
      const h = harness();
      await refused(h, h.api.createService({ spec: undefined }), status.INVALID_ARGUMENT, 'a service spec is required');
    });
  });

  it('accepts the same published port on another protocol', async () => {
    const h = harness();
    const s = await create(h, { endpoint: { ports: [ingress(53, 53), ingress(53, 53, PortProtocol.PORT_PROTOCOL_UDP)] } });
    assert.equal(s.endpoint?.ports.length, 2);
  });

  describe('names are unique, case-insensitively', () => {
    it('refuses a name in use', async () => {
      const h = harness();
      await create(h);
      await refused(h, h.api.createService({ spec: spec() }), status.ALREADY_EXISTS, /^service name "web" is already in use/);
    });

    it('refuses the same name in other letter case', async () => {
      const h = harness();
      await create(h);
      await refused(h, h.api.createService({ spec: spec({ name: 'WEB' }) }), status.ALREADY_EXISTS, /^service name "WEB" is already in use/);
    });

    it('lets the unique index decide between two managers racing for one name', async () => {
      const h = harness();
      const results = await Promise.allSettled([
        h.api.createService({ spec: spec({ name: 'web' }) }),
        h.other().createService({ spec: spec({ name: 'Web' }) }),
      ]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
      assert.equal(lost.reason.code, status.ALREADY_EXISTS);
      assert.match(lost.reason.details, /^service name "Web" is already in use/);
      assert.equal(h.store.view((tx) => tx.list(servicesTable).length), 1);
    });
  });

  describe('published ports', () => {
    it('refuses a published port another service holds', async () => {
      const h = harness();
      await create(h, { endpoint: { ports: [ingress(80, 8080)] } });
      await refused(
        h,
        h.api.createService({ spec: spec({ name: 'api', endpoint: { ports: [ingress(3000, 8080)] } }) }),
        status.INVALID_ARGUMENT,
        /^port 8080 is already in use by service "web"/,
      );
    });

    it('lets host-mode services share a port, but not with an ingress port', async () => {
      const h = harness();
      await create(h, { name: 'a', endpoint: { ports: [host(80, 8080)] } });
      await create(h, { name: 'b', endpoint: { ports: [host(80, 8080)] } });
      await refused(
        h,
        h.api.createService({ spec: spec({ name: 'c', endpoint: { ports: [ingress(80, 8080)] } }) }),
        status.INVALID_ARGUMENT,
        /port 8080 is already in use by service "[ab]"/,
      );
    });

    it('picks the lowest free port from 30000 for published port 0', async () => {
      const h = harness();
      const a = await create(h, { name: 'a', endpoint: { ports: [ingress(80), ingress(443)] } });
      const b = await create(h, { name: 'b', endpoint: { ports: [ingress(80, 30002), ingress(81)] } });
      assert.deepEqual(a.endpoint?.ports.map((p) => p.publishedPort), [30000, 30001]);
      assert.deepEqual(b.endpoint?.ports.map((p) => p.publishedPort), [30002, 30003]);
      // The spec keeps what the user asked for.
      assert.deepEqual(a.spec?.endpoint?.ports.map((p) => p.publishedPort), [0, 0]);
    });

    it('leaves host-mode port 0 to the node', async () => {
      const h = harness();
      const s = await create(h, { endpoint: { ports: [host(80, 0)] } });
      assert.equal(s.endpoint?.ports[0]?.publishedPort, 0);
    });
  });

  describe('networks', () => {
    it('refuses an unknown network', async () => {
      const h = harness();
      await refused(
        h,
        h.api.createService({ spec: spec({ task: { container: { image: 'nginx' }, networks: [{ target: 'app' }] } }) }),
        status.NOT_FOUND,
        /^network app not found; create it with/,
      );
    });

    it('stores attachments by network ID', async () => {
      const h = harness();
      await addNetwork(h, 'n'.repeat(25), 'app');
      const s = await create(h, { task: { container: { image: 'nginx' }, networks: [{ target: 'APP', aliases: ['db'] }] } });
      assert.deepEqual(s.spec?.task?.networks, [{ target: 'n'.repeat(25), aliases: ['db'] }]);
    });

    it('refuses attaching the ingress network', async () => {
      const h = harness();
      await addNetwork(h, 'i'.repeat(25), 'ingress', true);
      await refused(
        h,
        h.api.createService({ spec: spec({ task: { container: { image: 'nginx' }, networks: [{ target: 'ingress' }] } }) }),
        status.INVALID_ARGUMENT,
        /cannot be attached to the ingress network/,
      );
    });
  });
});

describe('control API: GetService', () => {
  it('finds a service by ID, name (any case) and unique ID prefix', async () => {
    const h = harness();
    const s = await create(h);
    for (const ref of [s.id, 'web', 'WeB', s.id.slice(0, 24)]) {
      const got = (await h.api.getService({ serviceId: ref })).service!;
      assert.equal(got.id, s.id, ref);
      assert.equal(got.meta?.version, s.meta?.version);
    }
  });

  it('refuses an ambiguous ID prefix', async () => {
    const h = harness();
    await create(h, { name: 'a' });
    await create(h, { name: 'b' });
    await refused(h, h.api.getService({ serviceId: 's0' }), status.INVALID_ARGUMENT, /^service s0 is ambiguous \(2 IDs start with it\)/);
  });

  it('answers NOT_FOUND in Swarm words', async () => {
    const h = harness();
    await refused(h, h.api.getService({ serviceId: 'web' }), status.NOT_FOUND, 'service web not found');
    await refused(h, h.api.getService({ serviceId: '' }), status.INVALID_ARGUMENT, /required/);
  });
});

describe('control API: ListServices', () => {
  it('lists services by name with running/desired counts', async () => {
    const h = harness();
    const web = await create(h, { name: 'web' });
    const mon = await create(h, { name: 'agent', mode: { $case: 'global', value: {} } });
    const R = TaskState.TASK_STATE_RUNNING;
    await addTask(h, { id: 't1', serviceId: web.id, desiredState: R, status: { state: R } });
    await addTask(h, { id: 't2', serviceId: web.id, desiredState: R, status: { state: TaskState.TASK_STATE_PREPARING } });
    // Running but being shut down: not counted.
    await addTask(h, { id: 't3', serviceId: web.id, desiredState: TaskState.TASK_STATE_SHUTDOWN, status: { state: R } });
    await addTask(h, { id: 'g1', serviceId: mon.id, nodeId: 'n1', desiredState: R, status: { state: R } });
    await addTask(h, { id: 'g2', serviceId: mon.id, nodeId: 'n2', desiredState: R, status: { state: TaskState.TASK_STATE_FAILED } });
    await addTask(h, { id: 'g3', serviceId: mon.id, nodeId: 'n3', desiredState: TaskState.TASK_STATE_SHUTDOWN });
    const r = await h.api.listServices({});
    assert.deepEqual(r.services.map((s) => s.spec?.name), ['agent', 'web']);
    assert.deepEqual(r.counts[web.id], { running: 1, desired: 3 });
    assert.deepEqual(r.counts[mon.id], { running: 1, desired: 2 });
  });
});

describe('control API: UpdateService', () => {
  it('replaces the spec, bumps the spec version and keeps the previous spec', async () => {
    const h = harness();
    const s = await create(h);
    h.clock.now = T0 + 1000;
    const r = await h.api.updateService({
      serviceId: 'web',
      serviceVersion: s.meta!.version,
      spec: spec({ task: { container: { image: 'nginx:2' } } }),
      rollback: false,
    });
    const u = r.service!;
    assert.equal(u.specVersion, 2);
    assert.equal(u.spec?.task?.container?.image, 'nginx:2');
    assert.equal(u.previousSpec?.task?.container?.image, 'nginx:1.25');
    assert.equal(u.meta?.version, h.store.version);
    assert.equal(u.meta?.createdAtMs, T0);
    assert.equal(u.meta?.updatedAtMs, T0 + 1000);
  });

  it('refuses a stale service version: update out of sequence', async () => {
    const h = harness();
    const s = await create(h);
    await h.api.updateService({ serviceId: s.id, serviceVersion: s.meta!.version, spec: spec({ mode: { $case: 'replicated', value: { replicas: 5 } } }), rollback: false });
    await refused(
      h,
      h.api.updateService({ serviceId: s.id, serviceVersion: s.meta!.version, spec: spec({ mode: { $case: 'replicated', value: { replicas: 1 } } }), rollback: false }),
      status.ABORTED,
      'update out of sequence: the service was changed by someone else; retry',
    );
  });

  it('maps a version conflict found at apply time to the same error', async () => {
    const h = harness();
    const s = await create(h);
    const v = s.meta!.version;
    const scale = (n: number, api = h.api) =>
      api.updateService({ serviceId: s.id, serviceVersion: v, spec: spec({ mode: { $case: 'replicated', value: { replicas: n } } }), rollback: false });
    const results = await Promise.allSettled([scale(5), scale(6, h.other())]);
    const lost = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    assert.equal(lost.length, 1);
    assert.equal(lost[0]!.reason.code, status.ABORTED);
    assert.match(lost[0]!.reason.details, /^update out of sequence/);
  });

  it('requires the version the caller read', async () => {
    const h = harness();
    await create(h);
    await refused(h, h.api.updateService({ serviceId: 'web', serviceVersion: 0, spec: spec(), rollback: false }), status.INVALID_ARGUMENT, /version is required/);
  });

  it('refuses renaming and changing the mode, as Swarm does', async () => {
    const h = harness();
    const s = await create(h);
    const v = s.meta!.version;
    await refused(h, h.api.updateService({ serviceId: 'web', serviceVersion: v, spec: spec({ name: 'www' }), rollback: false }), status.UNIMPLEMENTED, /^renaming services is not supported/);
    await refused(
      h,
      h.api.updateService({ serviceId: 'web', serviceVersion: v, spec: spec({ mode: { $case: 'global', value: {} } }), rollback: false }),
      status.UNIMPLEMENTED,
      /^service mode change is not allowed/,
    );
  });

  it('validates the new spec like create does', async () => {
    const h = harness();
    const s = await create(h);
    await refused(
      h,
      h.api.updateService({ serviceId: 'web', serviceVersion: s.meta!.version, spec: spec({ task: { container: { image: '' } } }), rollback: false }),
      status.INVALID_ARGUMENT,
      /image is required/,
    );
  });

  it('writes nothing when the spec did not change, so rollback still goes to the last real change', async () => {
    const h = harness();
    const s = await create(h);
    const u = (await h.api.updateService({ serviceId: 'web', serviceVersion: s.meta!.version, spec: spec({ task: { container: { image: 'nginx:2' } } }), rollback: false })).service!;
    const before = h.store.version;
    const same = (await h.api.updateService({ serviceId: 'web', serviceVersion: u.meta!.version, spec: spec({ name: '', task: { container: { image: 'nginx:2' } } }), rollback: false })).service!;
    assert.equal(h.store.version, before);
    assert.equal(same.meta?.version, u.meta?.version);
    assert.equal(same.previousSpec?.task?.container?.image, 'nginx:1.25');
  });

  it('keeps a dynamically published port across updates', async () => {
    const h = harness();
    await create(h, { name: 'a', endpoint: { ports: [ingress(80)] } });
    const b = await create(h, { name: 'b', endpoint: { ports: [ingress(80)] } });
    assert.equal(b.endpoint?.ports[0]?.publishedPort, 30001);
    await h.api.removeService({ serviceId: 'a' }); // 30000 is free again
    const u = (await h.api.updateService({ serviceId: 'b', serviceVersion: b.meta!.version, spec: spec({ name: 'b', task: { container: { image: 'nginx:2' } }, endpoint: { ports: [ingress(80)] } }), rollback: false })).service!;
    assert.equal(u.endpoint?.ports[0]?.publishedPort, 30001);
  });

  it('refuses taking a port another service holds', async () => {
    const h = harness();
    await create(h, { name: 'a', endpoint: { ports: [ingress(80, 8080)] } });
    const b = await create(h, { name: 'b' });
    await refused(
      h,
      h.api.updateService({ serviceId: 'b', serviceVersion: b.meta!.version, spec: spec({ name: 'b', endpoint: { ports: [ingress(80, 8080)] } }), rollback: false }),
      status.INVALID_ARGUMENT,
      /^port 8080 is already in use by service "a"/,
    );
  });

  describe('rollback', () => {
    it('swaps back to the previous spec and marks the rollback started', async () => {
      const h = harness();
      const s = await create(h);
      const u = (await h.api.updateService({ serviceId: 'web', serviceVersion: s.meta!.version, spec: spec({ task: { container: { image: 'nginx:2' } } }), rollback: false })).service!;
      const r = (await h.api.updateService({ serviceId: 'web', serviceVersion: u.meta!.version, spec: undefined, rollback: true })).service!;
      assert.equal(r.spec?.task?.container?.image, 'nginx:1.25');
      assert.equal(r.previousSpec?.task?.container?.image, 'nginx:2');
      assert.equal(r.specVersion, 3, 'spec versions only go up');
      assert.equal(r.updateStatus?.state, UpdateState.UPDATE_STATE_ROLLBACK_STARTED);
      assert.equal(r.updateStatus?.message, 'manually requested rollback');
    });

    it('refuses when there is nothing to roll back to', async () => {
      const h = harness();
      const s = await create(h);
      await refused(
        h,
        h.api.updateService({ serviceId: 'web', serviceVersion: s.meta!.version, spec: undefined, rollback: true }),
        status.FAILED_PRECONDITION,
        'service web has no previous spec to roll back to',
      );
    });
  });
});

describe('control API: RemoveService', () => {
  it('deletes the service and sets its tasks to REMOVE in the same transaction', async () => {
    const h = harness();
    const s = await create(h);
    await addTask(h, { id: 't1', serviceId: s.id });
    await addTask(h, { id: 't2', serviceId: s.id, desiredState: TaskState.TASK_STATE_SHUTDOWN });
    await addTask(h, { id: 't3', serviceId: s.id, desiredState: TaskState.TASK_STATE_ORPHANED }); // never moves back
    await addTask(h, { id: 'u1', serviceId: 'other' });
    const before = h.store.version;
    await h.api.removeService({ serviceId: 'web' });
    assert.equal(h.store.version, before + 1, 'one Raft entry');
    h.store.view((tx) => {
      assert.equal(tx.get(servicesTable, s.id), undefined);
      assert.equal(tx.get(tasksTable, 't1')?.object.desiredState, TaskState.TASK_STATE_REMOVE);
      assert.equal(tx.get(tasksTable, 't2')?.object.desiredState, TaskState.TASK_STATE_REMOVE);
      assert.equal(tx.get(tasksTable, 't3')?.object.desiredState, TaskState.TASK_STATE_ORPHANED);
      assert.equal(tx.get(tasksTable, 'u1')?.object.desiredState, TaskState.TASK_STATE_RUNNING);
    });
  });

  it('frees the name and the published ports', async () => {
    const h = harness();
    await create(h, { endpoint: { ports: [ingress(80, 8080)] } });
    await h.api.removeService({ serviceId: 'web' });
    await create(h, { endpoint: { ports: [ingress(80, 8080)] } });
  });

  it('answers NOT_FOUND for an unknown service', async () => {
    const h = harness();
    await refused(h, h.api.removeService({ serviceId: 'web' }), status.NOT_FOUND, 'service web not found');
  });
});
