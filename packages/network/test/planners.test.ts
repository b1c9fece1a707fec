// The pure planners: names, addresses, MTU, peers, VIP and published-port rules.
import * as assert from 'node:assert/strict';
import { EndpointMode, NetworkView, PortProtocol, PublishMode } from '@tswarm/api';
import {
  GatewayAllocator, containerNsName, desiredPeers, diffPeers, dnatSpread, gatewayPlan, gatewayVethName, ingressVethName,
  ipFromMac, macFromIp, overlayMtu, parseContainerNsName, parseKernelPeers, parseSandboxName, peerCommands, pickGatewaySubnet,
  bridgeAddrLines, planSandboxLb, planHostPortRules, planIngressRules, renderHostBase, renderIngressTable, renderLbDiff, renderLbFull, renderUnderlayNotrack,
  sandboxBridgeMac, sandboxName, sandboxVethName, underlayMtu, vxlanName, needsIngressMesh, planIngressPlumbing, type KernelLink, type NetnsState, type Peer,
} from '../src/index.js';

const A = 'nodeAAAA1111';
const B = 'nodeBBBB2222';

function baseView(over: Partial<NetworkView> = {}): NetworkView {
  return NetworkView.fromPartial({
    networks: [{ id: 'net1', vni: 4097, spec: { name: 'app' } }, { id: 'ing', vni: 4096, spec: { name: 'ingress', ingress: true } }],
    nodes: [{ nodeId: A, addr: '192.168.1.1', ingressAddr: '10.0.0.2/24' }, { nodeId: B, addr: '192.168.1.2:2377', ingressAddr: '10.0.0.3/24' }],
    endpoints: [
      { networkId: 'net1', taskId: 't1', nodeId: A, serviceId: 's1', addr: '10.0.1.5/24', active: true },
      { networkId: 'net1', taskId: 't2', nodeId: B, serviceId: 's1', addr: '10.0.1.6/24', active: true },
      { networkId: 'net1', taskId: 't3', nodeId: B, serviceId: 's1', addr: '10.0.1.7/24', active: false },
      { networkId: 'ing', taskId: 't2', nodeId: B, serviceId: 's1', addr: '10.0.0.6/24', active: true },
    ],
    services: [{ serviceId: 's1', name: 'web', mode: EndpointMode.ENDPOINT_MODE_VIP, virtualIps: [{ networkId: 'net1', addr: '10.0.1.2/24' }, { networkId: 'ing', addr: '10.0.0.4/24' }] }],
    ...over,
  });
}

describe('network names (pure)', () => {
  it('embeds the node token in sandbox names and parses back only its own', () => {
    assert.equal(sandboxName('tsw', 4097, A), 'tsw-ov4097-nodeAAAA');
    assert.equal(parseSandboxName('tsw', A, 'tsw-ov4097-nodeAAAA'), 4097);
    assert.equal(parseSandboxName('tsw', B, 'tsw-ov4097-nodeAAAA'), undefined);
    assert.equal(parseSandboxName('tsw', A, 'tswx-ov4097-nodeAAAA'), undefined);
  });

  it('names container handles by task and keeps link names within IFNAMSIZ', () => {
    const id = 'abcdefghijklmnopqrstuvwxy';
    assert.equal(containerNsName('tsw', id), 'tsw-cabcdefghijkl');
    assert.equal(parseContainerNsName('tsw', 'tsw-cabcdefghijkl'), 'abcdefghijkl');
    assert.equal(parseContainerNsName('tsw', 'tsw-ov4096-x'), undefined);
    for (const n of [sandboxVethName(id), gatewayVethName(id), ingressVethName(A), vxlanName(16777215)]) assert.ok(n.length <= 15, n);
  });

  it("gives each node's sandbox bridge a fixed, locally administered MAC of its own (never a container's 02:42:…)", () => {
    assert.match(sandboxBridgeMac(A, 4097), /^06(:[0-9a-f]{2}){5}$/);
    assert.equal(sandboxBridgeMac(A, 4097), sandboxBridgeMac(A, 4097));
    assert.notEqual(sandboxBridgeMac(A, 4097), sandboxBridgeMac(B, 4097));
    assert.notEqual(sandboxBridgeMac(A, 4097), sandboxBridgeMac(A, 4098));
  });

  it('derives Docker-style MACs from IPv4 (02:42 + address bytes) and back', () => {
    assert.equal(macFromIp('10.0.1.5'), '02:42:0a:00:01:05');
    assert.equal(macFromIp('172.20.255.254'), '02:42:ac:14:ff:fe');
    assert.equal(ipFromMac('02:42:0A:00:01:05'), '10.0.1.5');
    assert.equal(ipFromMac('52:54:00:00:00:01'), undefined);
  });
});

describe('gateway subnet and allocator (pure)', () => {
  it('picks the first 172.20-31/16 block that no route overlaps', () => {
    assert.equal(pickGatewaySubnet(['default', '192.168.1.0/24']), '172.20.0.0/16');
    assert.equal(pickGatewaySubnet(['172.20.5.0/24', '172.16.0.0/13']), '172.24.0.0/16');
    assert.throws(() => pickGatewaySubnet(['172.16.0.0/12']), /no free gateway subnet/);
  });

  it('keeps .1 for the bridge and .2 for the ingress sandbox', () => {
    assert.deepEqual(gatewayPlan('172.20.0.1/16'), { subnet: '172.20.0.0/16', prefix: 16, bridgeIp: '172.20.0.1', ingressIp: '172.20.0.2' });
    const a = new GatewayAllocator('10.9.0.0/29');
    assert.deepEqual([a.allocate(), a.allocate(), a.allocate(), a.allocate()], ['10.9.0.3', '10.9.0.4', '10.9.0.5', '10.9.0.6']);
    assert.throws(() => a.allocate(), /is full/);
  });

  it('skips adopted addresses and does not hand a released address out again at once', () => {
    const a = new GatewayAllocator('10.9.0.0/24');
    assert.ok(a.reserve('10.9.0.3'));
    assert.equal(a.reserve('10.9.0.1'), false);
    assert.equal(a.allocate(), '10.9.0.4');
    a.release('10.9.0.4');
    assert.equal(a.allocate(), '10.9.0.5');
  });
});

describe('overlay MTU rule (pure)', () => {
  const links = [{ ifname: 'eth0', mtu: 9000, addrs: ['192.168.1.1'] }, { ifname: 'eth1', mtu: 1400, addrs: [] }];
  it('is the MTU of the device holding the underlay address, minus 50 (RFC 7348 §5 overhead)', () => {
    assert.equal(overlayMtu(underlayMtu(links, '192.168.1.1', 'eth1')), 8950);
  });
  it('falls back to the default route device, then 1500', () => {
    assert.equal(underlayMtu(links, '10.1.1.1', 'eth1'), 1400);
    assert.equal(underlayMtu(links, undefined, undefined), 1500);
  });
});

describe('static VXLAN peers (pure, RFC 7348 §4: no learning, no flooding)', () => {
  it('programs every remote endpoint of the network at its node underlay address, never local ones', () => {
    const p = desiredPeers(baseView(), 'net1', A, false);
    assert.deepEqual([...p.values()], [
      { ip: '10.0.1.6', mac: '02:42:0a:00:01:06', dst: '192.168.1.2' },
      { ip: '10.0.1.7', mac: '02:42:0a:00:01:07', dst: '192.168.1.2' },
    ]);
  });

  it('gives a transmit device each endpoint\'s own VNI where the view has one; a sandbox never', () => {
    const v = baseView();
    v.endpoints = v.endpoints.map((e) => (e.taskId === 't3' ? { ...e, vni: 0xf00007 } : e));
    assert.deepEqual([...desiredPeers(v, 'net1', A, false, true).values()].map((p) => p.vni), [undefined, 0xf00007]);
    assert.deepEqual([...desiredPeers(v, 'net1', A, false).values()].map((p) => p.vni), [undefined, undefined]);
  });

  it('adds the other nodes\' ingress addresses in the ingress sandbox', () => {
    const p = desiredPeers(baseView(), 'ing', A, true);
    assert.deepEqual([...p.keys()].sort(), ['10.0.0.3', '10.0.0.6']);
  });

  it('applies only the difference between views', () => {
    const old = desiredPeers(baseView(), 'net1', A, false);
    const v2 = baseView();
    v2.endpoints = v2.endpoints.filter((e) => e.taskId !== 't3');
    v2.endpoints.push({ networkId: 'net1', taskId: 't4', taskName: '', nodeId: B, serviceId: 's1', addr: '10.0.1.8/24', aliases: [], active: true, vni: 0 });
    const d = diffPeers(old, desiredPeers(v2, 'net1', A, false));
    assert.deepEqual(d.put.map((x) => x.ip), ['10.0.1.8']);
    assert.deepEqual(d.del.map((x) => x.ip), ['10.0.1.7']);
    assert.deepEqual(peerCommands('vx4097', d), {
      bridge: [
        'fdb del 02:42:0a:00:01:07 dev vx4097 self', 'fdb del 02:42:0a:00:01:07 dev vx4097 master',
        'fdb replace 02:42:0a:00:01:08 dev vx4097 dst 192.168.1.2 self permanent', 'fdb replace 02:42:0a:00:01:08 dev vx4097 master static sticky',
      ],
      ip: ['neigh del 10.0.1.7 dev vx4097', 'neigh replace 10.0.1.8 lladdr 02:42:0a:00:01:08 dev vx4097 nud permanent'],
    });
    assert.deepEqual(diffPeers(old, old), { put: [], del: [] });
  });

  it('reads kernel state back so that half-programmed peers are rewritten', () => {
    const bridged = (mac: string) => ({ mac, master: 'br0', state: 'static', flags: ['sticky'] });
    const k = parseKernelPeers(
      [
        { mac: '02:42:0a:00:01:06', dst: '192.168.1.2' }, bridged('02:42:0a:00:01:06'),
        { mac: '02:42:0a:00:01:09', dst: '192.168.1.3' }, bridged('02:42:0a:00:01:09'),
        { mac: '02:42:0a:00:01:0a', dst: '192.168.1.3' }, // no bridge entry
        { mac: '02:42:0a:00:01:0b', dst: '192.168.1.3' }, { mac: '02:42:0a:00:01:0b', master: 'br0', state: 'static' }, // not sticky (before 2026-11-28)
        { mac: '00:00:00:00:00:00', dst: '1.1.1.1' }, { mac: '06:00:00:00:00:01', master: 'br0', state: 'permanent' },
      ],
      [{ dst: '10.0.1.6', lladdr: '02:42:0a:00:01:06' }, { dst: '10.0.1.7', lladdr: '02:42:0a:00:01:07' }, { dst: '10.0.1.10', lladdr: '02:42:0a:00:01:0a' }, { dst: '10.0.1.11', lladdr: '02:42:0a:00:01:0b' }],
    );
    const want = new Map<string, Peer>([
      ['10.0.1.6', { ip: '10.0.1.6', mac: '02:42:0a:00:01:06', dst: '192.168.1.2' }],
      ['10.0.1.7', { ip: '10.0.1.7', mac: '02:42:0a:00:01:07', dst: '192.168.1.2' }],
      ['10.0.1.9', { ip: '10.0.1.9', mac: '02:42:0a:00:01:09', dst: '192.168.1.3' }],
      ['10.0.1.10', { ip: '10.0.1.10', mac: '02:42:0a:00:01:0a', dst: '192.168.1.3' }],
      ['10.0.1.11', { ip: '10.0.1.11', mac: '02:42:0a:00:01:0b', dst: '192.168.1.3' }],
    ]);
    const d = diffPeers(k, want);
    assert.deepEqual(d.put.map((p) => p.ip), ['10.0.1.7', '10.0.1.9', '10.0.1.10', '10.0.1.11']);
    assert.deepEqual(d.del, []);
  });
});

describe('VIP load balancing in the sandbox (pure)', () => {
  const BR = '06:aa:bb:cc:dd:ee';
  const lbView = (): NetworkView => {
    const v = baseView();
    v.networks[0]!.ipam = { subnet: '10.0.1.0/24', gateway: '10.0.1.1', ipRange: '' };
    return v;
  };

  it('DNATs each VIP of the network over its active endpoints only; every VIP, live or not, is an address of br0 beside the gateway', () => {
    const plan = planSandboxLb(lbView(), 'net1', ['10.0.1.5'], BR)!;
    assert.deepEqual([...plan.chains], [['svc_s1', { vips: ['10.0.1.2'], rules: ['ip daddr 10.0.1.2 meta l4proto { tcp, udp } dnat to numgen random mod 2 map { 0 : 10.0.1.5, 1 : 10.0.1.6 }'] }]]);
    assert.deepEqual(plan.addrs, ['10.0.1.1/24', '10.0.1.2/32']);
    assert.deepEqual(plan.local, ['10.0.1.5']);
    const v = lbView();
    for (const e of v.endpoints) e.active = false;
    const dead = planSandboxLb(v, 'net1', [], BR)!;
    assert.equal(dead.chains.size, 0, 'no backend: no DNAT, so the sandbox itself refuses');
    assert.deepEqual(dead.addrs, ['10.0.1.1/24', '10.0.1.2/32']);
  });

  it('plans nothing for the ingress network, an unknown one or one without a gateway; DNSRR services get no VIP', () => {
    const v = lbView();
    assert.equal(planSandboxLb(v, 'ing', [], BR), undefined);
    assert.equal(planSandboxLb(v, 'other', [], BR), undefined);
    assert.equal(planSandboxLb(baseView(), 'net1', [], BR), undefined);
    v.services[0]!.mode = EndpointMode.ENDPOINT_MODE_DNSRR;
    assert.deepEqual(planSandboxLb(v, 'net1', [], BR)!.addrs, ['10.0.1.1/24']);
  });

  it('renders both tables as one atomic replacement: DNAT at prerouting, the source port into the VIP range, replies sent up to br0', () => {
    const s = renderLbFull(planSandboxLb(lbView(), 'net1', ['10.0.1.5', '10.0.1.9'], BR)!);
    assert.match(s, /^table ip tswarm_lb \{\}\ndelete table ip tswarm_lb\ntable ip tswarm_lb \{/);
    assert.match(s, /type nat hook prerouting priority dstnat; policy accept;\n\s+ip daddr vmap @vips\n/);
    assert.match(s, /type nat hook postrouting priority srcnat; policy accept;\n\s+ct status dnat ip saddr \. ip daddr @hairpin masquerade\n\s+ct status dnat meta l4proto \{ tcp, udp \} snat to :61000-65535\n/);
    assert.match(s, /\ntable bridge tswarm_lb \{\}\ndelete table bridge tswarm_lb\ntable bridge tswarm_lb \{/);
    assert.match(s, /ether daddr @locals ether type ip meta l4proto \{ tcp, udp \} th dport 61000-65535 ether daddr set 06:aa:bb:cc:dd:ee meta pkttype set host\n/);
    assert.match(s, /ether daddr @locals ip frag-off & 0x3fff != 0 ether daddr set 06:aa:bb:cc:dd:ee meta pkttype set host\n/);
    assert.match(s, /ether daddr @locals icmp type \{ destination-unreachable, time-exceeded, parameter-problem \} ether daddr set 06:aa:bb:cc:dd:ee/);
    assert.match(s, /add element ip tswarm_lb vips \{ 10\.0\.1\.2 : jump svc_s1 \}\nadd element ip tswarm_lb hairpin \{ 10\.0\.1\.5 \. 10\.0\.1\.5, 10\.0\.1\.9 \. 10\.0\.1\.9 \}\nadd element bridge tswarm_lb locals \{ 02:42:0a:00:01:05, 02:42:0a:00:01:09 \}\n$/);
  });

  it('rewrites only the changed service chain, takes a VIP out of the map when its last backend goes, and follows local containers', () => {
    const v1 = lbView();
    v1.services.push({ serviceId: 's2', name: 'db', mode: EndpointMode.ENDPOINT_MODE_VIP, virtualIps: [{ networkId: 'net1', addr: '10.0.1.3/24' }], ports: [] });
    v1.endpoints.push({ networkId: 'net1', taskId: 't9', taskName: '', nodeId: B, serviceId: 's2', addr: '10.0.1.9/24', aliases: [], active: true, vni: 0 });
    const p1 = planSandboxLb(v1, 'net1', ['10.0.1.5'], BR)!;
    const v2 = structuredClone(v1);
    v2.endpoints.find((e) => e.taskId === 't2')!.active = false;
    assert.equal(renderLbDiff(p1, planSandboxLb(v2, 'net1', ['10.0.1.5'], BR)!), 'flush chain ip tswarm_lb svc_s1\nadd rule ip tswarm_lb svc_s1 ip daddr 10.0.1.2 meta l4proto { tcp, udp } dnat to 10.0.1.5\n');
    const v3 = structuredClone(v1);
    v3.endpoints.find((e) => e.taskId === 't9')!.active = false;
    const p3 = planSandboxLb(v3, 'net1', ['10.0.1.5'], BR)!;
    assert.equal(renderLbDiff(p1, p3), 'delete element ip tswarm_lb vips { 10.0.1.3 }\ndelete chain ip tswarm_lb svc_s2\n');
    assert.deepEqual(p3.addrs, p1.addrs, 'the VIP stays on br0: refused there');
    assert.equal(renderLbDiff(p1, planSandboxLb(v1, 'net1', ['10.0.1.4'], BR)!), [
      'delete element ip tswarm_lb hairpin { 10.0.1.5 . 10.0.1.5 }',
      'delete element bridge tswarm_lb locals { 02:42:0a:00:01:05 }',
      'add element ip tswarm_lb hairpin { 10.0.1.4 . 10.0.1.4 }',
      'add element bridge tswarm_lb locals { 02:42:0a:00:01:04 }',
    ].join('\n') + '\n');
    assert.equal(renderLbDiff(p1, p1), '');
  });

  it('adds whole service chains, and rewrites the bridge rules when br0\'s MAC changes', () => {
    const p1 = planSandboxLb(lbView(), 'net1', [], BR)!;
    const none = { ...p1, chains: new Map() };
    assert.match(renderLbDiff(none, p1), /^add chain ip tswarm_lb svc_s1\nflush chain ip tswarm_lb svc_s1\nadd rule ip tswarm_lb svc_s1 ip daddr 10\.0\.1\.2 meta l4proto \{ tcp, udp \} dnat to numgen/);
    assert.equal(renderLbDiff(p1, none), 'delete element ip tswarm_lb vips { 10.0.1.2 }\ndelete chain ip tswarm_lb svc_s1\n');
    const moved = renderLbDiff(p1, { ...p1, bridgeMac: '06:00:00:00:00:01' });
    assert.match(moved, /^flush chain bridge tswarm_lb prerouting\nadd rule bridge tswarm_lb prerouting ether daddr @locals .* ether daddr set 06:00:00:00:00:01 /);
  });

  it('gives br0 the missing addresses before taking away the extra ones', () => {
    assert.deepEqual(bridgeAddrLines(['10.0.1.1/24', '10.0.1.7/32'], ['10.0.1.1/24', '10.0.1.2/32'], 'br0'), ['addr add 10.0.1.2/32 dev br0', 'addr del 10.0.1.7/32 dev br0']);
    assert.deepEqual(bridgeAddrLines(['10.0.1.1/24'], ['10.0.1.1/24'], 'br0'), []);
  });

  it('spreads with numgen over N backends, plain DNAT for one, nothing for none', () => {
    assert.equal(dnatSpread([]), undefined);
    assert.equal(dnatSpread(['10.0.0.5'], 80), 'dnat to 10.0.0.5:80');
    assert.equal(dnatSpread(['10.0.0.5', '10.0.0.6'], 80), 'dnat ip to numgen random mod 2 map { 0 : 10.0.0.5 . 80, 1 : 10.0.0.6 . 80 }');
  });
});

describe('published ports (pure)', () => {
  const ingressPort = { name: '', protocol: PortProtocol.PORT_PROTOCOL_TCP, targetPort: 80, publishedPort: 8080, publishMode: PublishMode.PUBLISH_MODE_INGRESS };
  const hostPort = { name: '', protocol: PortProtocol.PORT_PROTOCOL_UDP, targetPort: 53, publishedPort: 5353, publishMode: PublishMode.PUBLISH_MODE_HOST };

  it('needs the ingress sandbox only while an ingress-mode port is published', () => {
    assert.equal(needsIngressMesh(baseView()), false);
    const v = baseView();
    v.services[0]!.ports = [ingressPort];
    assert.equal(needsIngressMesh(v), true);
  });

  it('sends ingress ports to the ingress sandbox, host ports to the lowest local task of the service', () => {
    const v = baseView();
    v.services[0]!.ports = [ingressPort];
    v.services.push({ serviceId: 's2', name: 'dns', mode: EndpointMode.ENDPOINT_MODE_DNSRR, virtualIps: [], ports: [hostPort] });
    const local = [
      { taskId: 'tb', serviceId: 's2', gatewayIp: '172.20.0.4', ports: [] },
      { taskId: 'ta', serviceId: 's2', gatewayIp: '172.20.0.3', ports: [] },
    ];
    assert.deepEqual(planHostPortRules(v, local, '172.20.0.2'), ['tcp dport 8080 dnat to 172.20.0.2:8080', 'udp dport 5353 dnat to 172.20.0.3:53']);
    assert.deepEqual(planHostPortRules(v, [], undefined), []);
  });

  it('uses a task\'s own ports when its service is not in the view yet', () => {
    assert.deepEqual(planHostPortRules(baseView({ services: [] }), [{ taskId: 't', serviceId: 'sx', gatewayIp: '172.20.0.9', ports: [hostPort] }], undefined), ['udp dport 5353 dnat to 172.20.0.9:53']);
  });

  it('spreads the routing mesh over active endpoints on the ingress network, rewriting the port', () => {
    const v = baseView();
    v.services[0]!.ports = [ingressPort];
    v.endpoints.push({ networkId: 'ing', taskId: 't1', taskName: '', nodeId: A, serviceId: 's1', addr: '10.0.0.5/24', aliases: [], active: true, vni: 0 });
    assert.deepEqual(planIngressRules(v, 'ing'), ['tcp dport 8080 dnat ip to numgen random mod 2 map { 0 : 10.0.0.5 . 80, 1 : 10.0.0.6 . 80 }']);
    for (const e of v.endpoints) e.active = false;
    assert.deepEqual(planIngressRules(v, 'ing'), []);
    assert.match(renderIngressTable([]), /iifname "gw0" jump ports[\s\S]*oifname "br0" masquerade/);
  });

  it('checks the ingress sandbox\'s plumbing from one read: nothing to write when it is right, only what is missing otherwise', () => {
    const spec = { sandbox: 'sb', nodeId: A, ingressCidr: '10.0.0.2/24', gateway: gatewayPlan('172.20.0.0/16') };
    const link = (ifname: string, mac: string, cidrs: string[], up = true): KernelLink => ({ ifname, ifindex: 1, mtu: 1450, up, mac, addrs: cidrs.map((c) => c.split('/')[0]!), cidrs });
    const right: NetnsState = {
      links: [link('br0', macFromIp('10.0.0.2'), ['10.0.0.2/24']), link('gw0', macFromIp('172.20.0.2'), ['172.20.0.2/16'])],
      routes: [{ dst: 'default', dev: 'gw0', gateway: '172.20.0.1' }, { dst: '10.0.0.0/24', dev: 'br0' }],
      forwarding: true,
    };
    assert.deepEqual(planIngressPlumbing(right, spec), { newVeth: false, sandboxLines: [], missing: [] });
    const downNoRoute: NetnsState = { links: [right.links[0]!, link('gw0', 'x', ['172.20.0.2/16'], false)], routes: [], forwarding: false };
    assert.deepEqual(planIngressPlumbing(downNoRoute, spec), {
      newVeth: false, sandboxLines: ['link set gw0 up', 'route replace default via 172.20.0.1 dev gw0'], missing: ['gw0 up', 'default route', 'IP forwarding'],
    });
    const bare: NetnsState = { links: [link('br0', 'aa:bb:cc:dd:ee:ff', ['10.0.0.9/24'])], routes: [], forwarding: true };
    assert.deepEqual(planIngressPlumbing(bare, spec).sandboxLines, [
      `link set br0 address ${macFromIp('10.0.0.2')}`, 'addr del 10.0.0.9/24 dev br0', 'addr add 10.0.0.2/24 dev br0',
      'link set gw0 up', 'addr add 172.20.0.2/16 dev gw0', 'route replace default via 172.20.0.1 dev gw0',
    ]);
    assert.equal(planIngressPlumbing(bare, spec).newVeth, true);
  });

  it('keeps the node table to its own chains and masquerades the gateway subnet', () => {
    const s = renderHostBase('172.20.0.0/16');
    assert.match(s, /ip saddr 172\.20\.0\.0\/16 oifname != "tsw_gwbridge" masquerade/);
    assert.match(s, /ip daddr != 127\.0\.0\.0\/8 fib daddr type local jump ports/);
    assert.doesNotMatch(s, /flush chain ip tswarm ports|flush table/);
  });

  it('keeps the overlay\'s own VXLAN packets out of the node\'s conntrack, on the cluster\'s data-path port', () => {
    const s = renderUnderlayNotrack(7789);
    assert.match(s, /add chain ip tswarm underlay_in \{ type filter hook prerouting priority raw; policy accept; \}\nflush chain ip tswarm underlay_in\nadd rule ip tswarm underlay_in udp dport 7789 notrack/);
    assert.match(s, /add chain ip tswarm underlay_out \{ type filter hook output priority raw; policy accept; \}\nflush chain ip tswarm underlay_out\nadd rule ip tswarm underlay_out udp dport 7789 notrack/);
  });
});
