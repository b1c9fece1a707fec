import * as assert from 'node:assert/strict';
import { TaskState } from '@tswarm/api';
import { LogDemuxer, createOptions, containerName, frame } from '../src/index.js';

describe('Docker log stream demultiplexing', () => {
  it('splits frames into lines per stream, across chunk and frame boundaries', () => {
    const d = new LogDemuxer();
    const bytes = Buffer.concat([frame(false, 'hel'), frame(true, 'oops\n'), frame(false, 'lo\nwor'), frame(false, 'ld\n')]);
    const lines = [];
    for (let i = 0; i < bytes.length; i += 5) lines.push(...d.push(bytes.subarray(i, i + 5)));
    lines.push(...d.end());
    assert.deepEqual(lines.map((l) => [l.stderr, l.data.toString()]), [[true, 'oops\n'], [false, 'hello\n'], [false, 'world\n']]);
  });

  it('parses Docker\'s RFC 3339 timestamp prefix', () => {
    const d = new LogDemuxer();
    const [l] = d.push(frame(false, '2024-05-01T12:34:56.123456789Z hi there\n'));
    assert.equal(l!.timestampMs, Date.UTC(2024, 4, 1, 12, 34, 56, 123));
    assert.equal(l!.data.toString(), 'hi there\n');
  });

  it('keeps a final partial line when the stream ends', () => {
    const d = new LogDemuxer();
    assert.deepEqual(d.push(frame(false, 'no newline')), []);
    assert.deepEqual(d.end().map((l) => l.data.toString()), ['no newline']);
  });
});

describe('container config', () => {
  const base = {
    id: 'abc123', meta: undefined, serviceId: 's1', serviceName: 'web', slot: 2, nodeId: 'n1',
    spec: {
      container: { image: 'img', command: ['sh'], args: ['-c', 'true'], env: ['A=1'], labels: {}, stopGracePeriodMs: 2500, stopSignal: 'SIGINT', hostname: '' },
      resources: undefined, restart: undefined, placement: undefined, networks: [], forceUpdate: 0,
    },
    specVersion: 1, desiredState: TaskState.TASK_STATE_RUNNING, status: undefined, networks: [], endpoint: undefined, restartCount: 0,
  };

  it('names replicated tasks by slot and global tasks by node', () => {
    assert.equal(containerName(base), 'tswarm.web.2.abc123');
    assert.equal(containerName({ ...base, slot: 0 }), 'tswarm.web.n1.abc123');
  });

  it('maps command to the entrypoint and args to the command, like Swarm', () => {
    const o = createOptions(base, 'n1', undefined);
    assert.deepEqual(o.Entrypoint, ['sh']);
    assert.deepEqual(o.Cmd, ['-c', 'true']);
    assert.equal(o.StopSignal, 'SIGINT');
    assert.equal(o.StopTimeout, 3);
    assert.equal(o.Labels!['com.tswarm.lab'], undefined);
    assert.equal(createOptions(base, 'n1', 'tsw').Labels!['com.tswarm.lab'], 'tsw');
  });

  it('with a data plane, creates the container with Docker\'s networking disabled and the node\'s resolv.conf and hosts', () => {
    const plain = createOptions(base, 'n1', undefined);
    assert.equal(plain.HostConfig!.NetworkMode, undefined, 'no data plane: Docker\'s default bridge');
    assert.equal(plain.NetworkDisabled, undefined);
    assert.equal(plain.HostConfig!.Binds, undefined);
    const o = createOptions(base, 'n1', undefined, { resolvConfPath: '/d/resolv.conf', hostsPath: '/d/hosts' });
    assert.equal(o.NetworkDisabled, true);
    assert.equal(o.HostConfig!.NetworkMode, 'none');
    assert.equal(o.HostConfig!.Dns, undefined);
    assert.deepEqual(o.HostConfig!.Binds, ['/d/resolv.conf:/etc/resolv.conf:ro', '/d/hosts:/etc/hosts:ro']);
  });
});
