import { strict as assert } from 'node:assert';
import { Network } from '@tswarm/api';
import { allocateNetwork, MIN_VNI, type AllocationResult, type NetworkAllocationInput } from '../../src/index.js';

const POOL = ['10.0.0.0/8'];

function net(name: string, subnet: string, vni: number): Network {
  return Network.fromPartial({ id: `id-${name}`, spec: { name, driver: 'overlay' }, vni, ipam: { subnet, gateway: '', ipRange: '' } });
}

function alloc(p: Partial<NetworkAllocationInput> = {}): AllocationResult {
  return allocateNetwork({ requested: undefined, existing: [], pools: POOL, subnetSize: 24, ...p });
}

function ok(r: AllocationResult): { subnet: string; gateway: string; ipRange: string; vni: number } {
  assert.ok(r.ok, r.ok ? '' : r.message);
  return { ...r.ipam, vni: r.vni };
}

function refused(r: AllocationResult, code: string, message: string | RegExp): void {
  assert.ok(!r.ok, 'expected a refusal');
  assert.equal(r.code, code);
  if (typeof message === 'string') assert.equal(r.message, message);
  else assert.match(r.message, message);
}

describe('allocator: network subnets, gateways and VNIs', () => {
  it('cuts the first /24 of the default pool, gateway its first usable address, VNI 4096', () => {
    assert.deepEqual(ok(alloc()), { subnet: '10.0.0.0/24', gateway: '10.0.0.1', ipRange: '', vni: MIN_VNI });
  });

  it('skips subnets already used, including user subnets larger than a pool block', () => {
    const existing = [net('ingress', '10.0.0.0/24', 4096), net('big', '10.0.2.0/23', 4097), net('app', '10.0.1.0/24', 4098)];
    assert.deepEqual(ok(alloc({ existing })), { subnet: '10.0.4.0/24', gateway: '10.0.4.1', ipRange: '', vni: 4099 });
  });

  it('reuses a freed subnet and VNI: the existing networks are the only state', () => {
    const existing = [net('a', '10.0.0.0/24', 4096), net('c', '10.0.2.0/24', 4098)];
    assert.deepEqual(ok(alloc({ existing })), { subnet: '10.0.1.0/24', gateway: '10.0.1.1', ipRange: '', vni: 4097 });
  });

  it('honours the cluster subnet size and moves on to the next pool when one is full', () => {
    assert.equal(ok(alloc({ pools: ['172.20.0.0/16'], subnetSize: 26 })).subnet, '172.20.0.0/26');
    const existing = [net('a', '192.168.0.0/25', 4096), net('b', '192.168.0.128/25', 4097)];
    assert.equal(ok(alloc({ pools: ['192.168.0.0/24', '192.168.1.0/24'], subnetSize: 25, existing })).subnet, '192.168.1.0/25');
  });

  it('says so when the pool is exhausted', () => {
    const existing = [net('a', '10.0.0.0/25', 4096), net('b', '10.0.0.128/25', 4097)];
    refused(alloc({ pools: ['10.0.0.0/24'], subnetSize: 25, existing }), 'exhausted', 'no subnet left in the default address pool 10.0.0.0/24 for /25 networks; remove unused networks or give --subnet');
    refused(alloc({ existing: [net('all', '10.0.0.0/8', 4096)] }), 'exhausted', /^no subnet left in the default address pool 10\.0\.0\.0\/8 for \/24 networks/);
  });

  it('finds a hole late in a big pool without probing block by block', () => {
    // 255 used /16s: the only free /24s are in 10.255.0.0/16.
    const existing = Array.from({ length: 255 }, (_, i) => net(`n${i}`, `10.${i}.0.0/16`, MIN_VNI + i));
    assert.equal(ok(alloc({ existing })).subnet, '10.255.0.0/24');
  });

  it('accepts a user subnet outside the pool and refuses one that overlaps an existing network', () => {
    assert.deepEqual(ok(alloc({ requested: { subnet: '192.168.50.0/24', gateway: '', ipRange: '' } })), {
      subnet: '192.168.50.0/24', gateway: '192.168.50.1', ipRange: '', vni: MIN_VNI,
    });
    const existing = [net('app', '10.0.0.0/16', 4096)];
    refused(alloc({ requested: { subnet: '10.0.1.0/24', gateway: '', ipRange: '' }, existing }), 'conflict', /^subnet 10\.0\.1\.0\/24 overlaps network "app" \(10\.0\.0\.0\/16\)/);
    refused(alloc({ requested: { subnet: '10.0.0.0/8', gateway: '', ipRange: '' }, existing }), 'conflict', /^subnet 10\.0\.0\.0\/8 overlaps network "app" \(10\.0\.0\.0\/16\)/);
  });

  it('refuses malformed subnets, host bits and networks too small for a gateway and a task', () => {
    refused(alloc({ requested: { subnet: '10.1.0.0', gateway: '', ipRange: '' } }), 'invalid', /^invalid subnet 10\.1\.0\.0: expected an IPv4 network in CIDR form/);
    refused(alloc({ requested: { subnet: '10.1.0.7/24', gateway: '', ipRange: '' } }), 'invalid', 'invalid subnet 10.1.0.7/24: host bits are set; the network is 10.1.0.0/24');
    refused(alloc({ requested: { subnet: '10.1.0.0/31', gateway: '', ipRange: '' } }), 'invalid', /needs at least a \/30/);
  });

  it('takes a gateway inside the subnet and refuses one outside or on the network/broadcast address', () => {
    const subnet = '10.9.0.0/24';
    assert.equal(ok(alloc({ requested: { subnet, gateway: '10.9.0.254', ipRange: '' } })).gateway, '10.9.0.254');
    refused(alloc({ requested: { subnet, gateway: '10.9.1.1', ipRange: '' } }), 'invalid', 'gateway 10.9.1.1 is not inside subnet 10.9.0.0/24');
    refused(alloc({ requested: { subnet, gateway: '10.9.0.255', ipRange: '' } }), 'invalid', /network or broadcast address/);
    refused(alloc({ requested: { subnet, gateway: '10.9.0.0', ipRange: '' } }), 'invalid', /network or broadcast address/);
    refused(alloc({ requested: { subnet, gateway: 'gw', ipRange: '' } }), 'invalid', /^invalid gateway gw: expected an IPv4 address/);
  });

  it('takes an IP range inside the subnet only', () => {
    const subnet = '10.9.0.0/16';
    assert.equal(ok(alloc({ requested: { subnet, gateway: '', ipRange: '10.9.4.0/22' } })).ipRange, '10.9.4.0/22');
    refused(alloc({ requested: { subnet, gateway: '', ipRange: '10.8.0.0/24' } }), 'invalid', 'IP range 10.8.0.0/24 is not inside subnet 10.9.0.0/16');
    refused(alloc({ requested: { subnet, gateway: '', ipRange: '10.0.0.0/8' } }), 'invalid', 'IP range 10.0.0.0/8 is not inside subnet 10.9.0.0/16');
  });

  it('refuses a gateway or range without a subnet to check them against', () => {
    refused(alloc({ requested: { subnet: '', gateway: '10.0.0.1', ipRange: '' } }), 'invalid', /give --subnet as well/);
  });

  it('gives every network a VNI no other network has, and says so when none is left', () => {
    const existing = [net('a', '10.0.0.0/24', 4096), net('b', '10.0.1.0/24', 4097)];
    assert.equal(ok(alloc({ existing })).vni, 4098);
    refused(alloc({ existing, vniRange: { min: 4096, max: 4097 } }), 'exhausted', 'no VXLAN ID left (4096-4097 are all in use); remove unused networks');
  });
});
