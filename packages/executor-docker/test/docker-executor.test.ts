// Against the real Docker Engine with the local tswarm/busybox image. Every container made
// here carries com.tswarm.lab=<LAB> and is removed by that label in after().
import * as assert from 'node:assert/strict';
import { TaskState, silentLogger, type LogMessage, type Task, type TaskStatus } from '@tswarm/api';
import { ContainerNotFoundError, ExecutorError, TaskRunner, systemClock } from '@tswarm/agent';
import Docker from 'dockerode';
import { DockerExecutor, LABEL_LAB, LABEL_NODE_ID, LABEL_TASK_ID, containerName } from '../src/index.js';

const IMAGE = 'tswarm/busybox:latest';
const LAB = `tswarm-exec-test-${process.pid}`;
const docker = new Docker();
let seq = 0;

function task(command: string[], fields: Partial<Task> & { grace?: number; stopSignal?: string; image?: string } = {}): Task {
  const { grace, stopSignal, image, ...rest } = fields;
  const id = `t${process.pid}x${++seq}`;
  return {
    id, meta: undefined, serviceId: 'svc-exec', serviceName: 'exectest', slot: seq, nodeId: 'nodeA',
    spec: {
      container: {
        image: image ?? IMAGE, command, args: [], env: ['GREETING=hello'], labels: { user: 'label' },
        stopGracePeriodMs: grace ?? 0, stopSignal: stopSignal ?? '', hostname: '',
      },
      resources: { limits: { nanoCpus: 500_000_000, memoryBytes: 64 * 2 ** 20 }, reservations: undefined },
      restart: undefined, placement: undefined, networks: [], forceUpdate: 0,
    },
    specVersion: 1, desiredState: TaskState.TASK_STATE_RUNNING, status: undefined,
    networks: [], endpoint: undefined, restartCount: 0, ...rest,
  };
}

async function collect(it: AsyncIterable<LogMessage>, max = Infinity): Promise<LogMessage[]> {
  const out: LogMessage[] = [];
  for await (const m of it) {
    out.push(m);
    if (out.length >= max) break;
  }
  return out;
}

const text = (ms: LogMessage[]) => ms.map((m) => `${m.stderr ? 'err' : 'out'}:${Buffer.from(m.data).toString()}`);

describe('DockerExecutor (real engine)', function () {
  this.timeout(30_000);
  const ex = new DockerExecutor({ nodeId: 'nodeA', hostname: 'lab-h1', lab: LAB });
  const exB = new DockerExecutor({ nodeId: 'nodeB', hostname: 'lab-h2', lab: LAB });

  after(async () => {
    const left = await docker.listContainers({ all: true, filters: { label: [`${LABEL_LAB}=${LAB}`] } });
    await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => {})));
  });

  it('describes the node from docker info, with the hostname it was given', async () => {
    const d = await ex.describe();
    assert.equal(d.hostname, 'lab-h1');
    assert.equal(d.os, 'linux');
    assert.ok(d.resources!.nanoCpus >= 1e9 && d.resources!.nanoCpus % 1e9 === 0);
    assert.ok(d.resources!.memoryBytes > 0);
    assert.match(d.engineVersion, /^\d+\.\d+/);
  });

  it('creates, starts and waits: running, then the exit code; labels, env and limits applied', async () => {
    const t = task(['sh', '-c', 'sleep 0.5; echo "$GREETING"; exit 3']);
    const c = ex.controller(t);
    await c.prepare();
    await c.prepare(); // idempotent: the container exists
    await c.start();
    await c.start(); // idempotent: already running
    const seen = await c.inspect();
    assert.equal(seen.running, true);
    assert.ok(seen.pid > 0);
    assert.deepEqual(await c.wait(), { exitCode: 3 });
    const info = await docker.getContainer(seen.containerId).inspect();
    assert.equal(info.Name, `/${containerName(t)}`);
    assert.match(info.Name, /^\/tswarm\.exectest\.\d+\.t/);
    assert.equal(info.Config.Labels[LABEL_TASK_ID], t.id);
    assert.equal(info.Config.Labels[LABEL_NODE_ID], 'nodeA');
    assert.equal(info.Config.Labels[LABEL_LAB], LAB);
    assert.equal(info.Config.Labels.user, 'label');
    assert.equal(info.HostConfig.NanoCpus, 500_000_000);
    assert.equal(info.HostConfig.Memory, 64 * 2 ** 20);
    assert.equal((await c.inspect()).exitCode, 3);
    await c.remove();
    await c.remove(); // idempotent: already gone
    assert.equal((await c.inspect()).exists, false);
    await assert.rejects(c.wait(), ContainerNotFoundError);
  });

  it('stops with the grace period, then kills (sleep as PID 1 ignores SIGTERM)', async () => {
    const c = ex.controller(task(['sleep', '60']));
    await c.prepare();
    await c.start();
    const t0 = Date.now();
    await c.shutdown(1_000);
    const took = Date.now() - t0;
    assert.ok(took >= 900 && took < 8_000, `stop took ${took} ms`);
    const seen = await c.inspect();
    assert.equal(seen.running, false);
    assert.equal(seen.exitCode, 137);
    await c.shutdown(1_000); // not running: resolves at once
  });

  it('stops at once with the task\'s stop signal', async () => {
    const c = ex.controller(task(['sleep', '60'], { stopSignal: 'SIGKILL' }));
    await c.prepare();
    await c.start();
    const t0 = Date.now();
    await c.shutdown(10_000);
    assert.ok(Date.now() - t0 < 5_000);
    assert.equal((await c.inspect()).exitCode, 137);
  });

  it('reads logs: stdout and stderr apart, with timestamps, tail, and follow that can be abandoned', async () => {
    const c = ex.controller(task(['sh', '-c', 'echo one; echo two >&2; echo three; i=0; while true; do echo tick$i; i=$((i+1)); sleep 0.1; done']));
    await c.prepare();
    await c.start();
    await new Promise((r) => setTimeout(r, 400));
    const all = await collect(c.logs({ follow: false, tail: -1 }));
    // Order within a stream is kept; between stdout and stderr Docker does not promise one.
    assert.deepEqual(text(all).filter((l) => !l.includes('tick')).filter((l) => l.startsWith('out')), ['out:one\n', 'out:three\n']);
    assert.ok(text(all).includes('err:two\n'));
    assert.ok(all.every((m) => Math.abs(m.timestampMs - Date.now()) < 60_000), 'timestamps parsed');
    assert.equal(all[0]!.slot, seq);
    const tail = await collect(c.logs({ follow: false, tail: 1 }));
    assert.equal(tail.length, 1);
    const t0 = Date.now();
    const followed = await collect(c.logs({ follow: true, tail: 0 }), 3);
    assert.deepEqual(followed.map((m) => Buffer.from(m.data).toString().slice(0, 4)), ['tick', 'tick', 'tick']);
    assert.ok(Date.now() - t0 < 5_000);
    await c.remove();
  });

  it('a missing image cannot be pulled: the task is REJECTED with Docker\'s message', async () => {
    const t = task([], { image: 'nginx:latest' });
    await assert.rejects(ex.controller(t).prepare(), (err: unknown) => {
      assert.ok(err instanceof ExecutorError);
      assert.equal(err.message, 'No such image: nginx:latest');
      return true;
    });
    // Through the agent's runner, as a node would run it.
    const statuses: TaskStatus[] = [];
    const runner = new TaskRunner(t, {
      controller: ex.controller(t), clock: systemClock, logger: silentLogger, report: (_id, s) => statuses.push(s),
    });
    for (let i = 0; i < 100 && runner.status.state < TaskState.TASK_STATE_COMPLETE; i++) await new Promise((r) => setTimeout(r, 50));
    runner.stop();
    assert.equal(runner.status.state, TaskState.TASK_STATE_REJECTED);
    assert.equal(runner.status.err, 'No such image: nginx:latest');
    assert.deepEqual(statuses.map((s) => s.state), [
      TaskState.TASK_STATE_ACCEPTED, TaskState.TASK_STATE_PREPARING, TaskState.TASK_STATE_REJECTED,
    ]);
  });

  it('a new controller for the same task finds the running container (adoption after a restart)', async () => {
    const t = task(['sleep', '60'], { stopSignal: 'SIGKILL' });
    const first = ex.controller(t);
    await first.prepare();
    await first.start();
    const before = await first.inspect();
    const again = new DockerExecutor({ nodeId: 'nodeA', lab: LAB }).controller(t);
    await again.prepare(); // name taken: already created
    await again.start(); // already running: not restarted
    const after = await again.inspect();
    assert.equal(after.containerId, before.containerId);
    assert.equal(after.pid, before.pid, 'the same process: not restarted');
    const waiting = again.wait();
    await again.shutdown(1_000);
    assert.deepEqual(await waiting, { exitCode: 137 });
    await again.remove();
  });

  it('lists only this node\'s containers, and removes orphans by ID', async () => {
    const a = task(['sleep', '60'], { stopSignal: 'SIGKILL' });
    const b = task(['sleep', '60'], { stopSignal: 'SIGKILL', nodeId: 'nodeB' });
    await ex.controller(a).prepare();
    await ex.controller(a).start();
    await exB.controller(b).prepare();
    const mine = (await ex.listManaged()).filter((m) => m.taskId === a.id || m.taskId === b.id);
    assert.deepEqual(mine.map((m) => [m.taskId, m.running]), [[a.id, true]]);
    const theirs = (await exB.listManaged()).filter((m) => m.taskId === a.id || m.taskId === b.id);
    assert.deepEqual(theirs.map((m) => [m.taskId, m.running]), [[b.id, false]]);
    await ex.removeManaged(mine[0]!.containerId);
    await ex.removeManaged(mine[0]!.containerId); // already gone: success
    assert.equal((await ex.controller(a).inspect()).exists, false);
  });
});
