import * as assert from 'node:assert/strict';
import { TaskState } from '@tswarm/api';
import { Agent, FakeExecutor, type SessionState } from '../src/index.js';
import { FakeCluster, FakeDispatcher, makeTask, stateOf, testAgentOptions, until } from './fake-dispatcher.js';

describe('Agent with a fake dispatcher', () => {
  let cluster: FakeCluster;
  let d1: FakeDispatcher;
  let d2: FakeDispatcher;
  let executor: FakeExecutor;
  const agents: Agent[] = [];

  function newAgent(managers = [d1.addr]): Agent {
    const agent = new Agent({ executor, ...testAgentOptions(managers) });
    agents.push(agent);
    return agent;
  }

  beforeEach(async () => {
    cluster = new FakeCluster();
    d1 = new FakeDispatcher(cluster, 'm1');
    d2 = new FakeDispatcher(cluster, 'm2');
    await Promise.all([d1.start(), d2.start()]);
    executor = new FakeExecutor();
  });

  afterEach(async () => {
    await Promise.all(agents.splice(0).map((a) => a.stop()));
    d1.kill();
    d2.kill();
  });

  it('starts the tasks of the complete set and reports RUNNING', async () => {
    cluster.tasks.set('t1', makeTask('t1'));
    cluster.tasks.set('t2', makeTask('t2', { slot: 2 }));
    await newAgent().start();
    await until('both tasks RUNNING', () => stateOf(cluster, 't1') === TaskState.TASK_STATE_RUNNING
      && stateOf(cluster, 't2') === TaskState.TASK_STATE_RUNNING);
    assert.equal(executor.containers.get('t1')?.state, 'running');
    const status = cluster.tasks.get('t1')!.status!;
    assert.equal(status.message, 'started');
    assert.equal(status.container?.containerId, executor.containers.get('t1')!.id);
    assert.ok(status.container!.pid > 0);
  });

  it('an incremental remove stops and removes the container', async () => {
    cluster.tasks.set('t1', makeTask('t1'));
    await newAgent().start();
    await until('t1 RUNNING', () => stateOf(cluster, 't1') === TaskState.TASK_STATE_RUNNING);
    d1.remove('t1');
    await until('t1 container removed', () => !executor.containers.has('t1'));
    assert.deepEqual(executor.calls.filter((c) => c.endsWith(' t1')).slice(-2), ['shutdown t1', 'remove t1']);
  });

  it('desired SHUTDOWN stops the container and reports SHUTDOWN, keeping the container', async () => {
    cluster.tasks.set('t1', makeTask('t1'));
    await newAgent().start();
    await until('t1 RUNNING', () => stateOf(cluster, 't1') === TaskState.TASK_STATE_RUNNING);
    d1.update({ ...cluster.tasks.get('t1')!, desiredState: TaskState.TASK_STATE_SHUTDOWN });
    await until('t1 SHUTDOWN', () => stateOf(cluster, 't1') === TaskState.TASK_STATE_SHUTDOWN);
    assert.equal(executor.containers.get('t1')?.state, 'exited');
    assert.equal(cluster.tasks.get('t1')!.status!.container?.exitCode, 137);
  });

  it('a non-zero exit is reported FAILED with the exit code; exit 0 is COMPLETE', async () => {
    cluster.tasks.set('bad', makeTask('bad'));
    cluster.tasks.set('good', makeTask('good', { slot: 2 }));
    await newAgent().start();
    await until('RUNNING', () => stateOf(cluster, 'bad') === TaskState.TASK_STATE_RUNNING
      && stateOf(cluster, 'good') === TaskState.TASK_STATE_RUNNING);
    executor.exit('bad', 3);
    executor.exit('good', 0);
    await until('bad FAILED', () => stateOf(cluster, 'bad') === TaskState.TASK_STATE_FAILED);
    await until('good COMPLETE', () => stateOf(cluster, 'good') === TaskState.TASK_STATE_COMPLETE);
    const bad = cluster.tasks.get('bad')!.status!;
    assert.equal(bad.err, 'task: non-zero exit (3)');
    assert.equal(bad.container?.exitCode, 3);
    assert.equal(cluster.tasks.get('good')!.status!.message, 'finished');
  });

  it('a missing image is REJECTED with the executor\'s message', async () => {
    cluster.tasks.set('t1', makeTask('t1', { image: 'nginx:latest' }));
    await newAgent().start();
    await until('t1 REJECTED', () => stateOf(cluster, 't1') === TaskState.TASK_STATE_REJECTED);
    assert.equal(cluster.tasks.get('t1')!.status!.err, 'No such image: nginx:latest');
  });

  it('a failed start is FAILED, not REJECTED', async () => {
    executor.failNext('start', 't1', new Error('OCI runtime create failed: no such file'));
    cluster.tasks.set('t1', makeTask('t1'));
    await newAgent().start();
    await until('t1 FAILED', () => stateOf(cluster, 't1') === TaskState.TASK_STATE_FAILED);
    assert.match(cluster.tasks.get('t1')!.status!.err, /OCI runtime create failed/);
  });

  it('batches status updates: 30 tasks through five states in a few calls', async () => {
    for (let i = 1; i <= 30; i++) cluster.tasks.set(`t${i}`, makeTask(`t${i}`, { slot: i }));
    await newAgent().start();
    await until('all RUNNING', () => [...cluster.tasks.keys()].every((id) => stateOf(cluster, id) === TaskState.TASK_STATE_RUNNING));
    const updates = d1.statusCalls.reduce((n, c) => n + c.updates.length, 0);
    assert.ok(d1.statusCalls.length <= 5, `expected at most 5 UpdateTaskStatus calls, got ${d1.statusCalls.length}`);
    assert.ok(updates >= 30 && updates <= 150, `updates sent: ${updates}`);
  });

  it('reconnects to the second manager when the first dies, and resyncs from its complete set', async () => {
    cluster.tasks.set('t1', makeTask('t1'));
    const agent = newAgent([d1.addr, d2.addr]);
    const changes: SessionState[] = [];
    agent.onSessionChange((s) => changes.push(s));
    await agent.start();
    await until('t1 RUNNING', () => stateOf(cluster, 't1') === TaskState.TASK_STATE_RUNNING);
    // The first manager acknowledges the next update but loses it (it was never committed).
    d1.dropStatus = true;
    executor.exit('t1', 0);
    await until('COMPLETE sent to m1', () => d1.statusCalls.some((c) => c.updates.some((u) => u.status?.state === TaskState.TASK_STATE_COMPLETE)));
    assert.equal(stateOf(cluster, 't1'), TaskState.TASK_STATE_RUNNING);
    d1.kill();
    await until('session with m2', () => d2.sessions === 1);
    // m2's complete set still says RUNNING: the agent reports COMPLETE again.
    await until('t1 COMPLETE', () => stateOf(cluster, 't1') === TaskState.TASK_STATE_COMPLETE);
    d2.update(makeTask('t2', { slot: 2 }));
    await until('t2 RUNNING via m2', () => stateOf(cluster, 't2') === TaskState.TASK_STATE_RUNNING);
    assert.equal(executor.count('start', 't1'), 1, 't1 must not be started again');
    assert.deepEqual(changes.map((c) => [c.connected, c.manager]), [[true, d1.addr], [false, d1.addr], [true, d2.addr]]);
  });

  it('goes to the leader a manager names when it refuses the session, though it knew only that manager', async () => {
    d1.followerOf = d2.addr;
    const agent = newAgent([d1.addr]);
    const changes: SessionState[] = [];
    agent.onSessionChange((s) => changes.push(s));
    await agent.start();
    await until('session with m2', () => changes.some((c) => c.connected && c.manager === d2.addr), 2_000);
    assert.deepEqual(changes.map((c) => [c.connected, c.manager]), [[false, d1.addr], [true, d2.addr]]);
    assert.equal(d2.sessions, 1);
  });

  it('reconnects when heartbeats fail, at the period the manager gives', async () => {
    cluster.heartbeatPeriodMs = 100;
    await newAgent([d1.addr, d2.addr]).start();
    await until('a few heartbeats', () => d1.heartbeats >= 3, 2_000);
    d1.failHeartbeats = true;
    await until('session with m2', () => d2.sessions === 1, 2_000);
  });

  it('adopts a still-running container after an agent restart instead of restarting it', async () => {
    cluster.tasks.set('t1', makeTask('t1'));
    const first = newAgent();
    await first.start();
    await until('t1 RUNNING', () => stateOf(cluster, 't1') === TaskState.TASK_STATE_RUNNING);
    await first.stop();
    assert.equal(executor.containers.get('t1')?.state, 'running', 'stopping the agent leaves containers running');
    // Meanwhile: a container for a task the cluster deleted, and one of another node.
    const gone = executor.controller(makeTask('gone'));
    await gone.prepare();
    await gone.start();
    executor.containers.set('other', { ...executor.containers.get('gone')!, id: 'o1', taskId: 'other', nodeId: 'node-2' });

    await newAgent().start();
    await until('orphan removed', () => !executor.containers.has('gone'));
    assert.ok(executor.containers.has('other'), 'another node\'s container is not touched');
    assert.equal(executor.count('start', 't1'), 1);
    assert.equal(executor.count('prepare', 't1'), 1);
    executor.exit('t1', 0);
    await until('t1 COMPLETE via the adopted wait', () => stateOf(cluster, 't1') === TaskState.TASK_STATE_COMPLETE);
  });

  it('publishes the logs of matching tasks when the manager subscribes', async () => {
    cluster.tasks.set('t1', makeTask('t1'));
    cluster.tasks.set('x', makeTask('x', { serviceId: 'other' }));
    await newAgent().start();
    await until('RUNNING', () => stateOf(cluster, 't1') === TaskState.TASK_STATE_RUNNING
      && stateOf(cluster, 'x') === TaskState.TASK_STATE_RUNNING);
    executor.log('t1', 'hello');
    executor.log('t1', 'oops', true);
    executor.log('x', 'not mine');
    d1.subscribeLogs({ id: 'sub1', serviceId: 'svc1' });
    await until('closing message', () => d1.published.some((m) => m.close));
    const lines = d1.published.flatMap((m) => m.messages);
    assert.deepEqual(lines.map((l) => [Buffer.from(l.data).toString(), l.stderr, l.taskId]),
      [['hello\n', false, 't1'], ['oops\n', true, 't1']]);
    assert.ok(d1.published.every((m) => m.subscriptionId === 'sub1'));
  });
});
