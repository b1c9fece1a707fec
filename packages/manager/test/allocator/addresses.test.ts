import * as assert from 'node:assert/strict';
import { Network, Node, Service, Task, TaskState } from '@tswarm/api';
import { AddressBook, allocateTaskNetworks } from '../../src/allocator/addresses.js';

const net = (id: string, subnet: string, extra: { gateway?: string; ipRange?: string } = {}) =>
  Network.fromPartial({ id, spec: { name: id }, ipam: { subnet, gateway: extra.gateway ?? '', ipRange: extra.ipRange ?? '' } });

describe('address allocation (AddressBook)', () => {
  it('gives the lowest free address, skipping the network, broadcast and gateway addresses', () => {
    const book = new AddressBook([net('app', '10.0.1.0/24', { gateway: '10.0.1.1' })]);
    assert.deepEqual([book.allocate('app'), book.allocate('app')], [{ ok: true, cidr: '10.0.1.2/24' }, { ok: true, cidr: '10.0.1.3/24' }]);
  });

  it('draws from --ip-range only, with the subnet\'s prefix', () => {
    const book = new AddressBook([net('app', '10.0.1.0/24', { gateway: '10.0.1.1', ipRange: '10.0.1.128/25' })]);
    assert.deepEqual(book.allocate('app'), { ok: true, cidr: '10.0.1.128/24' });
  });

  it('says which network is full and its subnet, instead of stalling', () => {
    const book = new AddressBook([net('app', '10.0.1.0/30', { gateway: '10.0.1.1' })]);
    assert.deepEqual(book.allocate('app'), { ok: true, cidr: '10.0.1.2/30' });
    assert.deepEqual(book.allocate('app'), { ok: false, message: 'no IP address left in network app (10.0.1.0/30)' });
  });

  it('counts what objects hold: VIPs, live tasks and node attachments — but not ended tasks', () => {
    const app = net('app', '10.0.1.0/29', { gateway: '10.0.1.1' }); // usable .1–.6, .1 the gateway
    const task = (id: string, addr: string, state: TaskState) =>
      Task.fromPartial({ id, status: { state }, networks: [{ networkId: 'app', addresses: [addr] }] });
    const book = AddressBook.from({
      networks: [app],
      services: [Service.fromPartial({ endpoint: { virtualIps: [{ networkId: 'app', addr: '10.0.1.2/29' }] } })],
      tasks: [task('a', '10.0.1.3/29', TaskState.TASK_STATE_RUNNING), task('b', '10.0.1.4/29', TaskState.TASK_STATE_FAILED)],
      nodes: [Node.fromPartial({ attachments: [{ networkId: 'app', addresses: ['10.0.1.5/29'] }] })],
    });
    assert.deepEqual([book.allocate('app'), book.allocate('app'), book.allocate('app').ok], [{ ok: true, cidr: '10.0.1.4/29' }, { ok: true, cidr: '10.0.1.6/29' }, false]);
  });

  it('allocates a task\'s networks all or nothing, ingress last', () => {
    const book = new AddressBook([net('app', '10.0.1.0/24', { gateway: '10.0.1.1' }), net('full', '10.0.2.0/30', { gateway: '10.0.2.1' }), net('ing', '10.0.0.0/24', { gateway: '10.0.0.1' })]);
    const t = Task.fromPartial({ spec: { networks: [{ target: 'app', aliases: ['db'] }] } });
    const got = allocateTaskNetworks(book, t, { ingressId: 'ing' });
    assert.ok(got.ok);
    assert.deepEqual(got.networks.map((a) => [a.networkId, a.addresses, a.aliases, a.network?.id]), [['app', ['10.0.1.2/24'], ['db'], 'app'], ['ing', ['10.0.0.2/24'], [], 'ing']]);
    book.allocate('full');
    const refused = allocateTaskNetworks(book, Task.fromPartial({ spec: { networks: [{ target: 'app' }, { target: 'full' }] } }), {});
    assert.deepEqual(refused, { ok: false, message: 'no IP address left in network full (10.0.2.0/30)' });
    assert.deepEqual(book.allocate('app'), { ok: true, cidr: '10.0.1.3/24' }, 'the address drawn for the refused task was given back');
  });
});
