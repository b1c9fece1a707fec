// The transmit devices' pure parts (src/tx-plan.ts): names, node-local VNIs, what the devices are told.
import * as assert from 'node:assert/strict';
import { NODE_LOCAL_VNI_MAX, NODE_LOCAL_VNI_MIN } from '@tswarm/api';
import { txDeviceName, txFlushLines, txOps, txTempName, txVniCandidate, type Peer } from '../src/index.js';

const TASK = 'k3j5n2m4p6q8r0s2t4u6v8w0x';
const peer = (ip: string, mac: string, dst: string): Peer => ({ ip, mac, dst });

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

  const D = { ifindex: 7, vni: 4097, src: '10.0.1.2' };
  const table = (...ps: ReturnType<typeof peer>[]) => new Map(ps.map((p) => [p.ip, p]));
  const p3 = peer('10.0.1.3', '02:42:0a:00:01:03', '192.168.1.12');
  const p4 = peer('10.0.1.4', '02:42:0a:00:01:04', '192.168.1.13');
  const p5 = peer('10.0.1.5', '02:42:0a:00:01:05', '192.168.1.13');
  const labels = (ops: { label: string }[]) => ops.map((o) => o.label);

  it('requests only the difference: forwarding entries (the network\'s VNI) first, then neighbour entries and /32 routes from the container\'s address', () => {
    const moved = { ...p4, dst: '192.168.1.14' };
    assert.deepEqual(labels(txOps(D, table(p3, p5), table(p3, moved))), [
      'fdb del 02:42:0a:00:01:05 dev#7',
      'fdb replace 02:42:0a:00:01:04 dst 192.168.1.14 vni 4097 dev#7',
      'route del 10.0.1.5/32 dev#7',
      'neigh del 10.0.1.5 dev#7',
      'neigh replace 10.0.1.4 lladdr 02:42:0a:00:01:04 dev#7',
      'route replace 10.0.1.4/32 src 10.0.1.2 dev#7',
    ]);
    assert.deepEqual(txOps(D, table(p3, moved), table(p3, moved)), []);
  });

  it('sends to a remote endpoint\'s own VNI when the view has one, and rewrites its entry when that VNI comes, changes or goes', () => {
    const own = { ...p3, vni: 0xf12345 };
    assert.deepEqual(labels(txOps(D, table(p3), table(own))), [
      'fdb replace 02:42:0a:00:01:03 dst 192.168.1.12 vni 15803205 dev#7',
      'neigh replace 10.0.1.3 lladdr 02:42:0a:00:01:03 dev#7',
      'route replace 10.0.1.3/32 src 10.0.1.2 dev#7',
    ]);
    assert.equal(labels(txOps(D, table(own), table({ ...p3, vni: 0xf00001 })))[0], 'fdb replace 02:42:0a:00:01:03 dst 192.168.1.12 vni 15728641 dev#7');
    assert.equal(labels(txOps(D, table(own), table(p3)))[0], 'fdb replace 02:42:0a:00:01:03 dst 192.168.1.12 vni 4097 dev#7');
    assert.deepEqual(txOps(D, table(own), table(own)), []);
  });

  it('empties devices whose entries are not known: forwarding entries, routes and permanent neighbours', () => {
    assert.deepEqual(txFlushLines(['vxtx0', 'vxtx1']), {
      bridge: ['fdb flush dev vxtx0 self', 'fdb flush dev vxtx1 self'],
      ip: ['route flush dev vxtx0', 'neigh flush dev vxtx0 nud permanent', 'route flush dev vxtx1', 'neigh flush dev vxtx1 nud permanent'],
    });
    assert.deepEqual(txFlushLines([]), { bridge: [], ip: [] });
  });
});
