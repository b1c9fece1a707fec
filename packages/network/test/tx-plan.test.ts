// The transmit devices' pure parts (src/tx-plan.ts): names, node-local VNIs, what the devices are told.
import * as assert from 'node:assert/strict';
import { NODE_LOCAL_VNI_MAX, NODE_LOCAL_VNI_MIN } from '@tswarm/api';
import { txCommands, txDeviceName, txTempName, txVniCandidate } from '../src/index.js';

const TASK = 'k3j5n2m4p6q8r0s2t4u6v8w0x';
const peer = (ip: string, mac: string, dst: string) => ({ ip, mac, dst });

describe('transmit devices (pure)', () => {
  it('names the device after its interface, and its temporary name fits IFNAMSIZ', () => {
    assert.equal(txDeviceName(0), 'vxtx0');
    assert.equal(txTempName(TASK, 3), 'txk3j5n2m4p63');
    assert.ok(txTempName(TASK, 99).length <= 15);
  });

  it('picks node-local VNIs only, the same for the same task and interface, the next one on each retry', () => {
    const v0 = txVniCandidate(TASK, 0, 0);
    assert.ok(v0 >= NODE_LOCAL_VNI_MIN && v0 <= NODE_LOCAL_VNI_MAX);
    assert.equal(txVniCandidate(TASK, 0, 0), v0);
    assert.notEqual(txVniCandidate(TASK, 1, 0), v0);
    const seen = new Set<number>();
    for (let attempt = 0; attempt < 8; attempt++) {
      const v = txVniCandidate(TASK, 0, attempt);
      assert.ok(v >= NODE_LOCAL_VNI_MIN && v <= NODE_LOCAL_VNI_MAX);
      seen.add(v);
    }
    assert.equal(seen.size, 8);
  });

  const D = { dev: 'vxtx0', vni: 4097, src: '10.0.1.2' };
  const table = (...ps: ReturnType<typeof peer>[]) => new Map(ps.map((p) => [p.ip, p]));
  const p3 = peer('10.0.1.3', '02:42:0a:00:01:03', '192.168.1.12');
  const p4 = peer('10.0.1.4', '02:42:0a:00:01:04', '192.168.1.13');
  const p5 = peer('10.0.1.5', '02:42:0a:00:01:05', '192.168.1.13');

  it('writes only the difference: a forwarding entry with the network\'s VNI, then a neighbour entry and a /32 route from the container\'s address', () => {
    const moved = { ...p4, dst: '192.168.1.14' };
    assert.deepEqual(txCommands(D, table(p3, p5), table(p3, moved)), {
      bridge: [
        'fdb del 02:42:0a:00:01:05 dev vxtx0 self',
        'fdb replace 02:42:0a:00:01:04 dev vxtx0 dst 192.168.1.14 vni 4097 self permanent',
      ],
      ip: [
        'route del 10.0.1.5/32 dev vxtx0',
        'neigh del 10.0.1.5 dev vxtx0',
        'neigh replace 10.0.1.4 lladdr 02:42:0a:00:01:04 dev vxtx0 nud permanent',
        'route replace 10.0.1.4/32 dev vxtx0 src 10.0.1.2',
      ],
    });
    assert.deepEqual(txCommands(D, table(p3, moved), table(p3, moved)), { bridge: [], ip: [] });
  });

  it('when what the device holds is not known, flushes it and writes every endpoint again', () => {
    assert.deepEqual(txCommands(D, null, table(p3)), {
      bridge: ['fdb flush dev vxtx0 self', 'fdb replace 02:42:0a:00:01:03 dev vxtx0 dst 192.168.1.12 vni 4097 self permanent'],
      ip: [
        'route flush dev vxtx0',
        'neigh flush dev vxtx0 nud permanent',
        'neigh replace 10.0.1.3 lladdr 02:42:0a:00:01:03 dev vxtx0 nud permanent',
        'route replace 10.0.1.3/32 dev vxtx0 src 10.0.1.2',
      ],
    });
    assert.deepEqual(txCommands(D, null, new Map()), { bridge: ['fdb flush dev vxtx0 self'], ip: ['route flush dev vxtx0', 'neigh flush dev vxtx0 nud permanent'] });
  });
});
