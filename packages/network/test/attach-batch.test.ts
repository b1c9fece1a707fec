// Integration: containers started together are plumbed together — concurrent attaches share
// one sandbox creation, each gets its own interfaces and gateway address. Needs root.
import * as assert from 'node:assert/strict';
import { Task } from '@tswarm/api';
import { LinuxDataplane, containerNsName, sandboxName, sandboxVethName } from '../src/index.js';
import { Lab, LAB_PREFIX, listLabNetns, sh } from './lab.js';

const NODE = 'nbatchaaaaaaaaaaaaaaaaaaa';
const NET = { id: 'netbatch0000000000000000', vni: 5101, spec: { name: 'batch', driver: 'overlay' }, ipam: { subnet: '10.232.1.0/24', gateway: '10.232.1.1', ipRange: '' } };

describe('LinuxDataplane plumbs concurrent attaches as one batch (root, integration)', function () {
  this.timeout(20_000);
  const lab = new Lab();
  let dp: LinuxDataplane | undefined;

  before(async () => {
    const [h1] = await lab.hosts(2);
    dp = await lab.dataplane(NODE, h1);
  });

  after(() => lab.destroy());

  it('plumbs six containers started at once, creating their network\'s sandbox once', async () => {
    const ids = Array.from({ length: 6 }, (_, i) => `tb${i}${'q'.repeat(22)}`);
    const pids = ids.map(() => lab.container(['sleep', '60']));
    await new Promise((r) => setTimeout(r, 150)); // let unshare enter its new namespace
    await Promise.all(ids.map((id, i) => dp!.attach(
      Task.fromPartial({ id, serviceId: 's', networks: [{ networkId: NET.id, addresses: [`10.232.1.${10 + i}/24`], network: NET }] }), pids[i]!)));
    assert.deepEqual(listLabNetns().filter((n) => n === sandboxName(LAB_PREFIX, NET.vni, NODE)).length, 1);
    const gateways = new Set<string>();
    for (const [i, id] of ids.entries()) {
      const addrs = await sh(['ip', '-n', containerNsName(LAB_PREFIX, id), '-o', '-4', 'addr', 'show']);
      assert.match(addrs, new RegExp(`eth0\\s+inet 10\\.232\\.1\\.${10 + i}/24`));
      gateways.add(/eth1\s+inet (\S+)/.exec(addrs)![1]!);
    }
    assert.equal(gateways.size, 6, 'every container has its own gateway address');
  });

  it('unplumbs the six detached at once: their handles and sandbox veths go, the sandbox stays', async () => {
    const ids = Array.from({ length: 6 }, (_, i) => `tb${i}${'q'.repeat(22)}`);
    await Promise.all(ids.map((id) => dp!.detach(id)));
    const left = listLabNetns();
    for (const id of ids) assert.ok(!left.includes(containerNsName(LAB_PREFIX, id)), `${id}'s handle is gone`);
    const sandbox = sandboxName(LAB_PREFIX, NET.vni, NODE);
    assert.ok(left.includes(sandbox));
    const links = await sh(['ip', '-n', sandbox, '-o', 'link', 'show']);
    for (const id of ids) assert.ok(!links.includes(sandboxVethName(id)), `${sandboxVethName(id)} is gone`);
  });
});
