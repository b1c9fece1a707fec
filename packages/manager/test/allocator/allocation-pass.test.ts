// The leader's allocation step as it runs: the control API writes services, the
// orchestration loop gives VIPs, task addresses and node ingress addresses.
import * as assert from 'node:assert/strict';
import { Network, NetworkSpec, PublishMode, TaskState, silentLogger, waitUntil, type Task } from '@tswarm/api';
import { OrchestrationLoop } from '../../src/orchestration-loop.js';
import { networksTable, nodesTable, servicesTable, tasksTable } from '../../src/tables.js';
import { buildNetworkViews } from '../../src/dispatcher/network-views.js';
import { readNetState } from '../../src/dispatcher/network-view-publisher.js';
import { addCluster, addNode, harness, idGen, spec, type Harness } from '../controlapi/harness.js';

describe('allocation in the orchestration pass', () => {
  let h: Harness;
  let loop: OrchestrationLoop;
  const tasks = (): Task[] => h.store.view((tx) => tx.list(tasksTable).map((r) => r.object));

  beforeEach(async () => {
    h = harness();
    await addCluster(h);
    await addNode(h, { id: 'n1' });
    await addNode(h, { id: 'n2' });
    await h.store.update((tx) => tx.create(networksTable, Network.fromPartial({
      id: 'ingress-id', spec: { name: 'ingress', driver: 'overlay', ingress: true }, vni: 4096, ipam: { subnet: '10.0.0.0/24', gateway: '10.0.0.1' },
    })));
    loop = new OrchestrationLoop({ store: h.store, nowMs: () => Date.now(), newId: idGen('t'), logger: silentLogger });
  });
  afterEach(() => loop.stop());

  it('gives the service a VIP and each task an address on its network before scheduling it', async () => {
    const { network } = await h.api.createNetwork({ spec: NetworkSpec.fromPartial({ name: 'app', ipam: { subnet: '10.9.0.0/24' } }) });
    await h.api.createService({ spec: spec({ task: { container: { image: 'busybox' }, networks: [{ target: 'app', aliases: ['www'] }] } }) });
    loop.start();
    await waitUntil('3 tasks assigned', () => tasks().filter((t) => t.status?.state === TaskState.TASK_STATE_ASSIGNED).length === 3);
    const svc = h.store.view((tx) => tx.list(servicesTable)[0]!.object);
    assert.deepEqual(svc.endpoint?.virtualIps, [{ networkId: network!.id, addr: '10.9.0.2/24' }]);
    const addrs = tasks().map((t) => t.networks[0]!.addresses[0]).sort();
    assert.deepEqual(addrs, ['10.9.0.3/24', '10.9.0.4/24', '10.9.0.5/24']);
    assert.deepEqual(tasks()[0]!.networks[0]!.aliases, ['www']);
    assert.equal(tasks()[0]!.networks[0]!.network?.vni, network!.vni, 'the attachment carries its network');
  });

  it('a full network leaves the task NEW saying so, and it proceeds once an address frees up', async () => {
    await h.api.createNetwork({ spec: NetworkSpec.fromPartial({ name: 'tiny', ipam: { subnet: '10.9.1.0/29' } }) }); // .2–.6 usable
    await h.api.createService({ spec: spec({ task: { container: { image: 'busybox' }, networks: [{ target: 'tiny' }] }, mode: { $case: 'replicated', value: { replicas: 5 } } }) });
    loop.start();
    await waitUntil('one task says why', () => tasks().some((t) => t.status?.err === 'no IP address left in network tiny (10.9.1.0/29)'));
    const stuck = tasks().filter((t) => t.status?.state === TaskState.TASK_STATE_NEW);
    assert.equal(stuck.length, 1, '4 addresses for the VIP + 3 tasks; the fourth task waits');
    assert.equal(stuck[0]!.status?.message, 'pending network address allocation');
    // One running task ends: its address is free again.
    const victim = tasks().find((t) => t.status?.state === TaskState.TASK_STATE_ASSIGNED)!;
    await h.store.update((tx) => {
      const row = tx.get(tasksTable, victim.id)!;
      tx.update(tasksTable, { ...row.object, status: { ...row.object.status!, state: TaskState.TASK_STATE_FAILED } }, row.version);
    });
    await waitUntil('the waiting task got an address', () => tasks().find((t) => t.id === stuck[0]!.id)!.status!.state >= TaskState.TASK_STATE_PENDING);
  });

  it('publishing through the mesh joins tasks to ingress and gives every node an ingress address; views say so', async () => {
    await h.api.createService({ spec: spec({ endpoint: { ports: [{ targetPort: 80, publishedPort: 8080, publishMode: PublishMode.PUBLISH_MODE_INGRESS }] } }) });
    loop.start();
    await waitUntil('nodes have ingress addresses', () => h.store.view((tx) => tx.list(nodesTable).every((r) => r.object.attachments.length === 1)));
    await waitUntil('tasks assigned', () => tasks().filter((t) => t.status?.state === TaskState.TASK_STATE_ASSIGNED).length === 3);
    const ingress = h.store.view((tx) => tx.list(networksTable).map((r) => r.object).find((n) => n.spec?.ingress)!);
    assert.ok(tasks().every((t) => t.networks.length === 1 && t.networks[0]!.networkId === ingress.id));
    const views = buildNetworkViews(readNetState(h.store), ['n1', 'n2']);
    for (const id of ['n1', 'n2']) {
      const v = views.get(id)!;
      assert.deepEqual(v.networks.map((n) => n.id), [ingress.id], 'every node holds ingress while a port is published');
      assert.equal(v.endpoints.length, 3);
      assert.ok(v.endpoints.every((e) => !e.active), 'nothing runs yet');
      assert.deepEqual(v.services[0]!.ports.map((p) => p.publishedPort), [8080]);
      assert.ok(v.nodes.every((n) => n.ingressAddr.startsWith('10.0.0.')));
    }
  });
});
