// After its tswarmd restarts, a node's agent adopts the containers still running for its
// tasks instead of restarting them (issue: cluster control plane, executor).
import assert from 'node:assert/strict';
import { formSwarm, Lab, labContainers, runningTasks, tswarmOk, until } from '../src/index.js';

describe('agent: adopting running containers after a tswarmd restart', function () {
  let lab: Lab;

  before(async function () {
    lab = await Lab.up(2, { prefix: 'tswa', subnet: '192.168.222.0/24' });
    // Swarm's default 5 s heartbeat: a restart of a second or two must not make the node Down.
    await formSwarm(lab, 'h1', { h2: 'worker' });
  });

  after(async function () {
    await Lab.destroy('tswa');
  });

  it('keeps the same container and task when the worker daemon is killed and started again', async function () {
    await tswarmOk(lab, 'h1', 'service', 'create', '--name', 'steady', '--constraint', 'node.hostname==h2', 'tswarm/busybox', 'httpd', '-f', '-p', '80');
    const [task] = await runningTasks(lab, 'h1', 'steady');
    const [container] = await labContainers(lab, 'label=com.tswarm.service.name=steady');
    assert.ok(task && container);
    await lab.killDaemon('h2');
    await lab.startDaemon('h2');
    // Give the new agent time to resync and report; the task must stay the same one.
    await until('h2 reporting again', 20_000, async () => {
      const tasks = await runningTasks(lab, 'h1', 'steady');
      return tasks.length === 1 ? tasks : undefined;
    });
    await new Promise((r) => setTimeout(r, 2000));
    const after = await runningTasks(lab, 'h1', 'steady');
    assert.deepEqual(after.map((t) => t.ID), [task.ID], 'the task was not replaced');
    assert.deepEqual(await labContainers(lab, 'label=com.tswarm.service.name=steady'), [container], 'the container was not restarted');
  });
});
