import * as assert from 'node:assert/strict';
import { NodeAvailability, NodeRole, NodeState } from '@tswarm/api';
import { goJsonTime } from '../src/render/docker-json.js';
import { inspectNode } from '../src/render/node-inspect.js';
import { prettyNode } from '../src/render/pretty.js';
import { node } from './fixtures.js';

// The expected objects are what `docker node inspect` prints for such nodes (moby
// api/types/swarm/node.go: field names, lower-case enum words, omitempty fields left out).
describe('node inspect in Docker\'s shape', () => {
  it('a leading manager: Docker\'s field names, ManagerStatus with Leader', () => {
    const n = node('node1', 'h1', { manager: 'leader', engine: '20.10.24+dfsg1' });
    n.meta = { version: 12, createdAtMs: Date.UTC(2024, 0, 2, 3, 4, 5, 678), updatedAtMs: Date.UTC(2024, 0, 2, 3, 5, 0, 100) };
    n.description!.resources = { nanoCpus: 2_000_000_000, memoryBytes: 25_276_510_208 };
    n.status!.addr = '192.168.239.11';
    n.managerStatus!.addr = '192.168.239.11:2377';
    assert.deepEqual(inspectNode(n), {
      ID: 'node1',
      Version: { Index: 12 },
      CreatedAt: '2024-01-02T03:04:05.678Z',
      UpdatedAt: '2024-01-02T03:05:00.1Z',
      Spec: { Labels: {}, Role: 'manager', Availability: 'active' },
      Description: {
        Hostname: 'h1',
        Platform: { Architecture: 'x86_64', OS: 'linux' },
        Resources: { NanoCPUs: 2_000_000_000, MemoryBytes: 25_276_510_208 },
        Engine: { EngineVersion: '20.10.24+dfsg1' },
      },
      Status: { State: 'ready', Addr: '192.168.239.11' },
      ManagerStatus: { Leader: true, Reachability: 'reachable', Addr: '192.168.239.11:2377' },
    });
  });

  it('a manager that does not lead has no Leader field, as Go leaves out false', () => {
    const out = inspectNode(node('node2', 'h2', { manager: 'unreachable' })) as any;
    assert.deepEqual(out.ManagerStatus, { Reachability: 'unreachable', Addr: '10.0.0.1:2377' });
  });

  it('a worker that is down: state and message, no ManagerStatus', () => {
    const n = node('node3', 'h3', { state: NodeState.NODE_STATE_DOWN });
    n.status!.message = 'heartbeat failure';
    const out = inspectNode(n) as any;
    assert.equal(out.Spec.Role, 'worker');
    assert.deepEqual(out.Status, { State: 'down', Message: 'heartbeat failure', Addr: '10.0.0.1' });
    assert.equal('ManagerStatus' in out, false);
  });

  it('labels, drain and pause under Spec', () => {
    const n = node('node4', 'h4', { availability: NodeAvailability.NODE_AVAILABILITY_DRAIN });
    n.spec!.labels = { zone: 'a', ssd: '' };
    assert.deepEqual((inspectNode(n) as any).Spec, { Labels: { zone: 'a', ssd: '' }, Role: 'worker', Availability: 'drain' });
    n.spec!.availability = NodeAvailability.NODE_AVAILABILITY_PAUSE;
    assert.equal((inspectNode(n) as any).Spec.Availability, 'pause');
  });

  it('every node state as Docker\'s word', () => {
    const words = [NodeState.NODE_STATE_UNKNOWN, NodeState.NODE_STATE_DOWN, NodeState.NODE_STATE_READY, NodeState.NODE_STATE_DISCONNECTED]
      .map((state) => (inspectNode(node('n', 'h', { state })) as any).Status.State);
    assert.deepEqual(words, ['unknown', 'down', 'ready', 'disconnected']);
  });

  it('Spec.Role is the desired role: a promoted node not yet voting shows "manager" and no ManagerStatus', () => {
    const n = node('node5', 'h5');
    n.spec!.desiredRole = NodeRole.NODE_ROLE_MANAGER;
    const out = inspectNode(n) as any;
    assert.equal(out.Spec.Role, 'manager');
    assert.equal('ManagerStatus' in out, false);
  });

  it('leaves out what tswarm knows and Docker has no field for, and description fields it does not know', () => {
    const n = node('node6', 'h6');
    n.attachments = [{ networkId: 'ingress', addresses: ['10.255.0.3/16'], aliases: [], network: undefined }];
    n.description = undefined;
    n.status!.addr = '';
    const out = inspectNode(n) as any;
    assert.deepEqual(Object.keys(out), ['ID', 'Version', 'CreatedAt', 'UpdatedAt', 'Spec', 'Description', 'Status']);
    assert.deepEqual(out.Description, { Platform: {}, Resources: {}, Engine: {} });
    assert.deepEqual(out.Status, { State: 'ready' });
  });
});

describe('times in Docker\'s JSON', () => {
  it('are written as Go writes a time.Time: UTC, trailing zeros of the fraction dropped, 0 the zero time', () => {
    assert.equal(goJsonTime(Date.UTC(2016, 5, 7, 20, 31, 11, 853)), '2016-06-07T20:31:11.853Z');
    assert.equal(goJsonTime(Date.UTC(2016, 5, 7, 20, 31, 10, 850)), '2016-06-07T20:31:10.85Z');
    assert.equal(goJsonTime(Date.UTC(2016, 5, 7, 20, 31, 0)), '2016-06-07T20:31:00Z');
    assert.equal(goJsonTime(0), '0001-01-01T00:00:00Z');
    assert.equal(goJsonTime(undefined), '0001-01-01T00:00:00Z');
  });
});

describe('node inspect --pretty', () => {
  it('follows Docker\'s template: labels sorted after ID, message after state, Raft status as reported', () => {
    const n = node('node1', 'h1', { manager: 'unreachable', state: NodeState.NODE_STATE_DOWN });
    n.meta = { version: 3, createdAtMs: Date.UTC(2024, 0, 2, 3, 4, 5, 670), updatedAtMs: 0 };
    n.spec!.labels = { zone: 'a', ssd: '' };
    n.status = { state: NodeState.NODE_STATE_DOWN, message: 'heartbeat failure', addr: '' };
    assert.deepEqual(prettyNode(n), [
      'ID:                node1',
      'Labels:',
      ' - ssd',
      ' - zone=a',
      'Hostname:          h1',
      'Joined at:         2024-01-02 03:04:05.67 +0000 utc',
      'Status:',
      ' State:            Down',
      ' Message:          heartbeat failure',
      ' Availability:     Active',
      'Manager Status:',
      ' Address:          10.0.0.1:2377',
      ' Raft Status:      Unreachable',
      ' Leader:           No',
      'Platform:',
      ' Operating System: linux',
      ' Architecture:     x86_64',
      'Resources:',
      ' CPUs:             2',
      ' Memory:           2GiB',
      'Engine Version:    20.10.24',
    ]);
  });
});
