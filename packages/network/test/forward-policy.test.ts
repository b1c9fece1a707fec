// Integration: a host whose iptables FORWARD policy drops (as dockerd leaves it) still lets its
// containers out through the gateway bridge, and the rules that make it so go when the node
// leaves; a host whose policy accepts is not touched at all. Needs root.
import * as assert from 'node:assert/strict';
import { Task } from '@tswarm/api';
import { FORWARD_ACCEPT_RULES, LinuxDataplane } from '../src/index.js';
import { Lab, labDataplane, inNs, sh, trySh } from './lab.js';

describe('LinuxDataplane under an iptables FORWARD DROP policy (root, integration)', function () {
  this.timeout(20_000);
  const lab = new Lab();
  let h1 = '';
  let h2 = '';
  const mk = (nodeId: string, host: string): Promise<LinuxDataplane> => labDataplane(nodeId, host);
  const forwardRules = async (h: string) => (await sh(inNs(h, ['iptables', '-w', '-S', 'FORWARD']))).split('\n').filter((l) => l.startsWith('-A FORWARD'));

  before(async function () {
    [h1, h2] = await lab.hosts(2);
  });

  after(async () => {
    await lab.destroy();
  });

  it('accepts its bridge\'s traffic where FORWARD drops, so a container reaches another host; leaving removes the rules', async () => {
    await sh(inNs(h1, ['iptables', '-w', '-P', 'FORWARD', 'DROP']));
    const dp = await mk('n1forwardaaaaaaaaaaaaaaaa', h1);
    try {
      assert.deepEqual((await forwardRules(h1)).sort(), FORWARD_ACCEPT_RULES.map((r) => `-A FORWARD ${r.join(' ')}`).sort());
      const pid = lab.container(['sleep', '60']);
      await new Promise((r) => setTimeout(r, 100));
      await dp.attach(Task.fromPartial({ id: 'tforwardaaaaaaaaaaaaaaaaa', serviceId: 's' }), pid);
      const ping = await trySh(['nsenter', '-t', String(pid), '-n', 'ping', '-c', '1', '-W', '2', '192.168.251.2']);
      assert.ok(ping.ok, `a container on the DROP host reaches the other host through NAT: ${ping.out}`);
      await dp.close({ teardown: true });
      assert.deepEqual(await forwardRules(h1), [], 'no rule left after leaving');
    } finally {
      await dp.close({ teardown: true }).catch(() => undefined);
    }
  });

  it('leaves iptables alone where the policy accepts', async () => {
    const dp = await mk('n2forwardbbbbbbbbbbbbbbbb', h2);
    try {
      assert.deepEqual(await forwardRules(h2), []);
      assert.doesNotMatch(await sh(inNs(h2, ['nft', 'list', 'tables'])), /table ip filter/);
    } finally {
      await dp.close({ teardown: true });
    }
  });
});
