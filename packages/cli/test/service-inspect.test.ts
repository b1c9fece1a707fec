import * as assert from 'node:assert/strict';
import { PublishMode, Service } from '@tswarm/api';
import { inspectService } from '../src/render/service-inspect.js';

describe('service inspect in Docker\'s shape', () => {
  it('names fields as the Engine API does, with durations in nanoseconds and enums as words', () => {
    const s = Service.fromPartial({
      id: 'svc1', meta: { version: 42, createdAtMs: 0, updatedAtMs: 1000 },
      spec: {
        name: 'web',
        task: {
          container: { image: 'nginx:1', args: ['-g', 'daemon off;'], stopGracePeriodMs: 2000 },
          restart: { condition: 1, delayMs: 5000 },
          networks: [{ target: 'net1', aliases: ['www'] }],
        },
        mode: { $case: 'replicated', value: { replicas: 3 } },
        update: { parallelism: 2, delayMs: 10, failureAction: 2, order: 1 },
        endpoint: { ports: [{ targetPort: 80, publishedPort: 8080, publishMode: PublishMode.PUBLISH_MODE_INGRESS }] },
      },
      endpoint: { ports: [{ targetPort: 80, publishedPort: 8080 }], virtualIps: [{ networkId: 'net1', addr: '10.0.1.2/24' }] },
    });
    const out = inspectService(s) as any;
    assert.equal(out.ID, 'svc1');
    assert.deepEqual(out.Version, { Index: 42 });
    assert.equal(out.UpdatedAt, '1970-01-01T00:00:01Z');
    assert.equal(out.CreatedAt, '0001-01-01T00:00:00Z');
    assert.deepEqual(out.Spec.TaskTemplate.ContainerSpec, { Image: 'nginx:1', Args: ['-g', 'daemon off;'], StopGracePeriod: 2_000_000_000 });
    assert.deepEqual(out.Spec.TaskTemplate.RestartPolicy, { Condition: 'on-failure', Delay: 5_000_000_000, MaxAttempts: 0 });
    assert.deepEqual(out.Spec.TaskTemplate.Networks, [{ Target: 'net1', Aliases: ['www'] }]);
    assert.deepEqual(out.Spec.Mode, { Replicated: { Replicas: 3 } });
    assert.deepEqual(out.Spec.UpdateConfig, { Parallelism: 2, Delay: 10_000_000, FailureAction: 'rollback', Monitor: 0, MaxFailureRatio: 0, Order: 'start-first' });
    assert.deepEqual(out.Endpoint.Ports, [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' }]);
    assert.deepEqual(out.Endpoint.VirtualIPs, [{ NetworkID: 'net1', Addr: '10.0.1.2/24' }]);
    assert.deepEqual(out.Spec.EndpointSpec, { Mode: 'vip', Ports: [{ Protocol: 'tcp', TargetPort: 80, PublishedPort: 8080, PublishMode: 'ingress' }] });
  });
});
