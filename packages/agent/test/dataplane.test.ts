import * as assert from 'node:assert/strict';
import { NetworkView, TaskState } from '@tswarm/api';
import { Agent, FakeDataplane, FakeExecutor } from '../src/index.js';
import { FakeCluster, FakeDispatcher, makeTask, stateOf, testAgentOptions, until } from './fake-dispatcher.js';

describe('Agent and the network data plane', () => {
  let cluster: FakeCluster;
  let d1: FakeDispatcher;
  let executor: FakeExecutor;
  let dataplane: FakeDataplane;
  const agents: Agent[] = [];

  function newAgent(): Agent {
    const agent = new Agent({ executor, dataplane, ...testAgentOptions([d1.addr]) });
    agents.push(agent);
    return agent;
  }

  beforeEach(async () => {
    cluster = new FakeCluster();
    d1 = new FakeDispatcher(cluster, 'm1');
    await d1.start();
    executor = new FakeExecutor();
    dataplane = new FakeDataplane();
  });

  afterEach(async () => {
    await Promise.all(agents.splice(0).map((a) => a.stop()));
    d1.kill();
  });

  it('plumbs a started container with its pid before reporting RUNNING, and releases it when it exits', async () => {
    cluster.tasks.set('t1', makeTask('t1'));
    await newAgent().start();
    await until('t1 RUNNING', () => stateOf(cluster, 't1') === TaskState.TASK_STATE_RUNNING);
    const pid = executor.containers.get('t1')!.pid;
    assert.equal(dataplane.attached.get('t1'), pid);
    assert.equal(cluster.tasks.get('t1')!.status!.container?.pid, pid);
    executor.exit('t1', 0);
    await until('t1 COMPLETE', () => stateOf(cluster, 't1') === TaskState.TASK_STATE_COMPLETE);
    assert.equal(dataplane.attached.has('t1'), false, 'detached once the process exited');
  });

  it('reports with RUNNING the VNIs that reach the container directly, and drops them once it has exited', async () => {
    dataplane.receive.set('t1', [{ networkId: 'app', vni: 0xf00011 }]);
    cluster.tasks.set('t1', makeTask('t1'));
    await newAgent().start();
    await until('t1 RUNNING', () => stateOf(cluster, 't1') === TaskState.TASK_STATE_RUNNING);
    assert.deepEqual(cluster.tasks.get('t1')!.status!.receive, [{ networkId: 'app', vni: 0xf00011 }]);
    executor.exit('t1', 0);
    await until('t1 COMPLETE', () => stateOf(cluster, 't1') === TaskState.TASK_STATE_COMPLETE);
    assert.deepEqual(cluster.tasks.get('t1')!.status!.receive, []);
  });

  it('fails the task with the reason, and stops its container, when it cannot be plumbed', async () => {
    dataplane.refuse.set('t1', 'no IP left on the gateway bridge');
    cluster.tasks.set('t1', makeTask('t1'));
    await newAgent().start();
    await until('t1 FAILED', () => stateOf(cluster, 't1') === TaskState.TASK_STATE_FAILED);
    assert.match(cluster.tasks.get('t1')!.status!.err, /connecting the container to its networks failed: no IP left on the gateway bridge/);
    assert.equal(executor.containers.get('t1')?.state, 'exited');
    assert.ok(dataplane.calls.includes('detach t1'), 'partial plumbing released');
  });

  it('hands over the network view of the complete set and of later messages, then sweeps once', async () => {
    cluster.view = NetworkView.fromPartial({ dataPathPort: 4789 });
    cluster.tasks.set('t1', makeTask('t1'));
    await newAgent().start();
    await until('first view', () => dataplane.views.length === 1);
    await until('sweep', () => dataplane.calls.some((c) => c.startsWith('sweep')));
    assert.deepEqual(dataplane.calls.filter((c) => c.startsWith('sweep')), ['sweep t1']);
    d1.sendView(NetworkView.fromPartial({ dataPathPort: 7000 }));
    await until('second view', () => dataplane.views.length === 2);
    assert.equal(dataplane.views[1]!.dataPathPort, 7000);
    assert.ok(dataplane.calls.indexOf('view') < dataplane.calls.findIndex((c) => c.startsWith('attach')), 'the view comes before the first attach');
  });

  it('re-plumbs an adopted running container after an agent restart, without restarting it', async () => {
    cluster.tasks.set('t1', makeTask('t1'));
    const first = newAgent();
    await first.start();
    await until('t1 RUNNING', () => stateOf(cluster, 't1') === TaskState.TASK_STATE_RUNNING);
    await first.stop();
    dataplane = new FakeDataplane(); // a new process knows nothing
    await newAgent().start();
    await until('re-attached', () => dataplane.attached.has('t1'));
    assert.equal(executor.count('start', 't1'), 1);
    assert.equal(dataplane.attached.get('t1'), executor.containers.get('t1')!.pid);
  });

  it('reports RUNNING again when a re-plumbed container receives on other VNIs than its task says, and not when on the same', async () => {
    dataplane.receive.set('t1', [{ networkId: 'app', vni: 0xf00011 }]);
    cluster.tasks.set('t1', makeTask('t1'));
    const first = newAgent();
    await first.start();
    await until('t1 RUNNING', () => stateOf(cluster, 't1') === TaskState.TASK_STATE_RUNNING);
    const reported = cluster.tasks.get('t1')!.status!.timestampMs;
    await first.stop();
    dataplane = new FakeDataplane();
    dataplane.receive.set('t1', [{ networkId: 'app', vni: 0xf00011 }]);
    const second = newAgent();
    await second.start();
    await until('re-attached', () => dataplane.attached.has('t1'));
    await second.stop();
    assert.equal(cluster.tasks.get('t1')!.status!.timestampMs, reported, 'same VNIs: nothing to report');
    dataplane = new FakeDataplane();
    dataplane.receive.set('t1', [{ networkId: 'app', vni: 0xf00012 }]);
    await newAgent().start();
    await until('new VNI reported', () => cluster.tasks.get('t1')!.status!.receive[0]?.vni === 0xf00012);
    assert.equal(stateOf(cluster, 't1'), TaskState.TASK_STATE_RUNNING);
  });
});
