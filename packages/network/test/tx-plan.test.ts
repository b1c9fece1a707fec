// The transmit devices' pure parts (src/tx-plan.ts): names, node-local VNIs, forwarding entries.
import * as assert from 'node:assert/strict';
import { NODE_LOCAL_VNI_MAX, NODE_LOCAL_VNI_MIN } from '@tswarm/api';
import { DEFAULT_FDB_MAC, desiredTxFdb, parseTxFdb, txDeviceName, txFdbCommands, txTempName, txVniCandidate } from '../src/index.js';

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

  it('wants every remote endpoint (MACs in lower case) and a default entry to this node', () => {
    const want = desiredTxFdb([peer('10.0.1.3', '02:42:0A:00:01:03', '192.168.1.12'), peer('10.0.1.4', '02:42:0a:00:01:04', '192.168.1.13')], '192.168.1.11');
    assert.deepEqual([...want], [[DEFAULT_FDB_MAC, '192.168.1.11'], ['02:42:0a:00:01:03', '192.168.1.12'], ['02:42:0a:00:01:04', '192.168.1.13']]);
  });

  it('writes only the difference, every entry sending with the network\'s VNI; the default entry is appended, never replaced', () => {
    const have = new Map([['02:42:0a:00:01:03', '192.168.1.12'], ['02:42:0a:00:01:05', '192.168.1.13']]);
    const want = new Map([[DEFAULT_FDB_MAC, '192.168.1.11'], ['02:42:0a:00:01:03', '192.168.1.12'], ['02:42:0a:00:01:04', '192.168.1.14']]);
    assert.deepEqual(txFdbCommands('vxtx0', 4097, have, want), [
      'fdb del 02:42:0a:00:01:05 dev vxtx0 self',
      'fdb append 00:00:00:00:00:00 dev vxtx0 dst 192.168.1.11 vni 4097 self permanent',
      'fdb replace 02:42:0a:00:01:04 dev vxtx0 dst 192.168.1.14 vni 4097 self permanent',
    ]);
    assert.deepEqual(txFdbCommands('vxtx0', 4097, want, want), []);
    // This node's address changed: the default entry is deleted whole and written again.
    const moved = new Map(want).set(DEFAULT_FDB_MAC, '192.168.1.21');
    assert.deepEqual(txFdbCommands('vxtx0', 4097, want, moved), [
      'fdb del 00:00:00:00:00:00 dev vxtx0 self',
      'fdb append 00:00:00:00:00:00 dev vxtx0 dst 192.168.1.21 vni 4097 self permanent',
    ]);
  });

  it('reads the kernel\'s entries back; another VNI or a MAC listed twice reads as unknown, the device\'s own addresses are skipped', () => {
    const kernel = [
      { mac: '00:00:00:00:00:00', dst: '192.168.1.11', vni: 4097 },
      { mac: '00:00:00:00:00:00', dst: '192.168.1.99', vni: 4097 },
      { mac: '02:42:0A:00:01:03', dst: '192.168.1.12', vni: 4097 },
      { mac: '02:42:0a:00:01:04', dst: '192.168.1.13', vni: 4098 },
      { mac: '33:33:00:00:00:01' },
    ];
    const got = parseTxFdb(kernel, 4097);
    assert.deepEqual([...got], [[DEFAULT_FDB_MAC, ''], ['02:42:0a:00:01:03', '192.168.1.12'], ['02:42:0a:00:01:04', '']]);
    const want = desiredTxFdb([peer('10.0.1.3', '02:42:0a:00:01:03', '192.168.1.12'), peer('10.0.1.4', '02:42:0a:00:01:04', '192.168.1.13')], '192.168.1.11');
    assert.deepEqual(txFdbCommands('vxtx0', 4097, got, want), [
      'fdb del 00:00:00:00:00:00 dev vxtx0 self',
      'fdb append 00:00:00:00:00:00 dev vxtx0 dst 192.168.1.11 vni 4097 self permanent',
      'fdb replace 02:42:0a:00:01:04 dev vxtx0 dst 192.168.1.13 vni 4097 self permanent',
    ]);
  });
});
