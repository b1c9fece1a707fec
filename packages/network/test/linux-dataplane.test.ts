// Integration: two "hosts" (network namespaces joined by a veth), one LinuxDataplane per host
// whose commands run inside it, "containers" as processes in fresh namespaces. Needs root.
// Every namespace is named tswnt-…; after() removes them all even when a test failed.
import * as assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { EndpointMode, NetworkView, PortProtocol, PublishMode, Task, type NetworkEndpoint } from '@tswarm/api';
import { LinuxDataplane, VIP_SOURCE_PORTS, containerNsName, sandboxBridgeMac, sandboxName } from '../src/index.js';
import { Lab, LAB_PREFIX, httpGet, inNs, listLabNetns, sh, trySh } from './lab.js';

const N1 = 'n1aaaaaaaaaaaaaaaaaaaaaaa';
const N2 = 'n2bbbbbbbbbbbbbbbbbbbbbbb';
const APP = { id: 'netapp000000000000000000', vni: 5001, spec: { name: 'app', driver: 'overlay' }, ipam: { subnet: '10.231.1.0/24', gateway: '10.231.1.1', ipRange: '' } };
const ING = { id: 'netingress00000000000000', vni: 5000, spec: { name: 'ingress', driver: 'overlay', ingress: true }, ipam: { subnet: '10.231.0.0/24', gateway: '10.231.0.1', ipRange: '' } };
const WEB = 'svcweb0000000000000000000';
const EMPTY = 'svcempty00000000000000000';
const HOSTSVC = 'svchost000000000000000000';
const T = { web1: 'tweb1aaaaaaaaaaaaaaaaaaaa', web2: 'tweb2bbbbbbbbbbbbbbbbbbbb', client: 'tclientccccccccccccccccccc', web3: 'tweb3dddddddddddddddddddd' };

function task(id: string, serviceId: string, nets: [typeof APP, string][]): Task {
  return Task.fromPartial({ id, serviceId, networks: nets.map(([n, addr]) => ({ networkId: n.id, addresses: [addr], network: n })) });
}

function view(active: { web1: boolean; web2: boolean }, withPorts = true, withEmpty = true): NetworkView {
  const ep = (taskId: string, nodeId: string, net: typeof APP, addr: string, serviceId: string, on: boolean): Partial<NetworkEndpoint> => ({ networkId: net.id, taskId, nodeId, addr, serviceId, active: on });
  return NetworkView.fromPartial({
    networks: [APP, ING],
    nodes: [
      { nodeId: N1, addr: '192.168.251.1', ingressAddr: '10.231.0.101/24' },
      { nodeId: N2, addr: '192.168.251.2', ingressAddr: '10.231.0.102/24' },
    ],
    endpoints: [
      ep(T.web1, N1, APP, '10.231.1.11/24', WEB, active.web1), ep(T.web1, N1, ING, '10.231.0.11/24', WEB, active.web1),
      ep(T.web2, N2, APP, '10.231.1.12/24', WEB, active.web2), ep(T.web2, N2, ING, '10.231.0.12/24', WEB, active.web2),
      ep(T.client, N1, APP, '10.231.1.21/24', 'svcclient', true),
    ],
    services: [
      { serviceId: WEB, name: 'web', mode: EndpointMode.ENDPOINT_MODE_VIP, virtualIps: [{ networkId: APP.id, addr: '10.231.1.2/24' }, { networkId: ING.id, addr: '10.231.0.2/24' }],
        ports: withPorts ? [{ protocol: PortProtocol.PORT_PROTOCOL_TCP, targetPort: 80, publishedPort: 8080, publishMode: PublishMode.PUBLISH_MODE_INGRESS }] : [] },
      ...(withEmpty ? [{ serviceId: EMPTY, name: 'empty', mode: EndpointMode.ENDPOINT_MODE_VIP, virtualIps: [{ networkId: APP.id, addr: '10.231.1.3/24' }], ports: [] }] : []),
      { serviceId: HOSTSVC, name: 'hostsvc', mode: EndpointMode.ENDPOINT_MODE_DNSRR, virtualIps: [],
        ports: [{ protocol: PortProtocol.PORT_PROTOCOL_TCP, targetPort: 80, publishedPort: 9090, publishMode: PublishMode.PUBLISH_MODE_HOST }] },
    ],
  });
}

/** A UDP server on port 7007 answering each datagram with its name (argv[1]). */
const UDP_ECHO = "const s = require('dgram').createSocket('udp4'); s.on('message', (m, r) => s.send(process.argv[1], r.port, r.address)); s.bind(7007);";
/** Asks host:port (argv) once on a connected socket; prints the answer and its source, or the error's code. */
const UDP_ASK = "const [h, p] = process.argv.slice(1); const s = require('dgram').createSocket('udp4');"
  + " const done = (t) => { console.log(t); process.exit(0); }; s.on('error', (e) => done(e.code)); setTimeout(() => done('timeout'), 1500);"
  + " s.on('message', (m, r) => done(m + ' from ' + r.address + ':' + r.port)); s.connect(+p, h, () => s.send('?'));";

async function spread(ns: string, url: string, tries: number): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  for (let i = 0; i < tries; i++) {
    const r = await httpGet(ns, url);
    const key = r.ok ? r.out.trim() : 'error';
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  return seen;
}

describe('LinuxDataplane on two namespace hosts (root, integration)', function () {
  this.timeout(20_000);
  const lab = new Lab();
  let h1 = '';
  let h2 = '';
  let dp1: LinuxDataplane | undefined;
  let dp2: LinuxDataplane | undefined;
  const pids = new Map<string, number>();
  let clients: ReadonlyMap<string, readonly string[]> = new Map();
  const mk = (nodeId: string, host: string): Promise<LinuxDataplane> =>
    lab.dataplane(nodeId, host, nodeId === N1 ? { onClients: (c: ReadonlyMap<string, readonly string[]>) => { clients = c; } } : {});
  const cns = (id: string): string => containerNsName(LAB_PREFIX, id);

  before(async function () {
    // Namespaces and links need root; CI and the lab run as root, so say so instead of skipping.
    if (process.getuid?.() !== 0) throw new Error('these integration tests need root (network namespaces); run them as root');
    // dockerd loads br_netfilter on every host tswarm runs on; load it here too, before any
    // sandbox exists, so the test below sees what a real node sees.
    if (!existsSync('/proc/sys/net/bridge')) await trySh(['modprobe', 'br_netfilter']);
    [h1, h2] = await lab.hosts(2);
    [dp1, dp2] = await Promise.all([mk(N1, h1), mk(N2, h2)]);
  });

  after(() => lab.destroy());

  it('gives containers the gateway bridge address as DNS and picks 172.20.0.0/16 in an empty host', () => {
    assert.deepEqual(dp1!.containerDns, ['172.20.0.1']);
  });

  it('plumbs containers and reaches a container on the other host over VXLAN (RFC 7348 §4, static peers)', async () => {
    dp1!.setView(view({ web1: true, web2: true }));
    dp2!.setView(view({ web1: true, web2: true }));
    pids.set(T.web1, lab.web('web1')).set(T.client, lab.container(['sleep', '1000'])).set(T.web2, lab.web('web2'));
    await dp1!.attach(task(T.web1, WEB, [[APP, '10.231.1.11/24'], [ING, '10.231.0.11/24']]), pids.get(T.web1)!);
    await dp1!.attach(task(T.client, 'svcclient', [[APP, '10.231.1.21/24']]), pids.get(T.client)!);
    await dp2!.attach(task(T.web2, WEB, [[APP, '10.231.1.12/24'], [ING, '10.231.0.12/24']]), pids.get(T.web2)!);
    const ifs = await sh(['ip', '-n', cns(T.web1), '-br', 'addr']);
    assert.match(ifs, /eth0@\S+\s+UP\s+10\.231\.1\.11\/24/);
    assert.match(ifs, /eth1@\S+\s+UP\s+10\.231\.0\.11\/24/);
    assert.match(ifs, /eth2@\S+\s+UP\s+172\.20\.0\.\d+\/16/);
    assert.deepEqual([...clients.values()].map((n) => n.join(',')).sort(), [APP.id, `${APP.id},${ING.id}`]);
    assert.ok([...clients.keys()].every((ip) => /^172\.20\.0\.\d+$/.test(ip) && ip !== '172.20.0.1' && ip !== '172.20.0.2'));
    const ping = await trySh(inNs(cns(T.client), ['busybox', 'ping', '-c', '1', '-W', '2', '10.231.1.12']));
    assert.ok(ping.ok, ping.out);
    assert.equal((await httpGet(cns(T.client), 'http://10.231.1.12/')).out.trim(), 'web2');
    // The encapsulated packets crossed both hosts' namespaces without a conntrack entry.
    for (const h of [h1, h2]) assert.doesNotMatch(await sh(inNs(h, ['cat', '/proc/net/nf_conntrack'])), /dport=4789 /, h);
  });

  it('re-attaching a running container is idempotent and keeps its gateway address', async () => {
    const before = await sh(['ip', '-n', cns(T.client), '-br', 'addr']);
    await dp1!.attach(task(T.client, 'svcclient', [[APP, '10.231.1.21/24']]), pids.get(T.client)!);
    assert.equal(await sh(['ip', '-n', cns(T.client), '-br', 'addr']), before);
  });

  it('spreads connections to a VIP over both active backends (DNAT in the sandbox), keeping the client\'s address', async () => {
    const seen = await spread(cns(T.client), 'http://10.231.1.2/', 16);
    assert.ok(seen.get('web1')! > 0 && seen.get('web2')! > 0, JSON.stringify([...seen]));
  });

  it('balances UDP over the VIP too: answers come from the VIP, and a port nobody listens on is refused (ICMP translated back)', async () => {
    for (const [id, name] of [[T.web1, 'web1'], [T.web2, 'web2']] as const) lab.spawnIn(cns(id), ['node', '-e', UDP_ECHO, name]);
    await new Promise((r) => setTimeout(r, 300));
    const answers = new Map<string, number>();
    for (let i = 0; i < 12; i++) {
      const r = await sh(inNs(cns(T.client), ['node', '-e', UDP_ASK, '10.231.1.2', '7007']));
      answers.set(r.trim(), (answers.get(r.trim()) ?? 0) + 1);
    }
    assert.deepEqual([...answers.keys()].sort(), ['web1 from 10.231.1.2:7007', 'web2 from 10.231.1.2:7007'], JSON.stringify([...answers]));
    assert.equal((await sh(inNs(cns(T.client), ['node', '-e', UDP_ASK, '10.231.1.2', '7008']))).trim(), 'ECONNREFUSED');
  });

  it('keeps netfilter out of the containers: VIP connections are tracked in the client\'s sandbox only, their replies addressed to a port of their own', async () => {
    const sandbox = listLabNetns().find((n) => n.startsWith(`${LAB_PREFIX}-ov${APP.vni}-${N1.slice(0, 8)}`))!;
    const conns = async (ns: string) => (await sh(inNs(ns, ['cat', '/proc/net/nf_conntrack']))).split('\n').filter((l) => / tcp /.test(l));
    assert.equal((await httpGet(cns(T.client), 'http://10.231.1.12/')).out.trim(), 'web2');
    await spread(cns(T.client), 'http://10.231.1.2/', 4);
    for (const c of [T.client, T.web1, T.web2]) {
      assert.equal((await sh(inNs(cns(c), ['nft', 'list', 'tables']))).trim(), '', `nft table in container ${c}`);
      assert.deepEqual(await conns(cns(c)), [], `conntrack entry in container ${c}`);
    }
    const all = await conns(sandbox);
    assert.deepEqual(all.filter((l) => l.includes('dst=10.231.1.12 ') && !/dport=6[1-5]\d{3} /.test(l)), [], 'direct connection tracked in the sandbox');
    const vip = all.filter((l) => l.includes('src=10.231.1.21 dst=10.231.1.2 '));
    assert.ok(vip.length > 0, 'VIP connections must be tracked for DNAT');
    for (const l of vip) {
      // Reply tuple: backend → the client's own address (kept), at a port in VIP_SOURCE_PORTS.
      const reply = /src=(10\.231\.1\.1[12]) dst=10\.231\.1\.21 sport=80 dport=(\d+)/.exec(l);
      assert.ok(reply && Number(reply[2]) >= VIP_SOURCE_PORTS.first, l);
    }
  });

  it('a backend reaching its own service through the VIP gets answers from itself too (masqueraded to the gateway address)', async () => {
    const seen = await spread(cns(T.web1), 'http://10.231.1.2/', 16);
    assert.equal(seen.get('error'), undefined, JSON.stringify([...seen]));
    assert.ok(seen.get('web1')! > 0 && seen.get('web2')! > 0, JSON.stringify([...seen]));
  });

  it('refuses at once a VIP with no active backend', async () => {
    const t0 = Date.now();
    const r = await httpGet(cns(T.client), 'http://10.231.1.3/');
    assert.equal(r.ok, false);
    assert.match(r.out, /refused/);
    assert.ok(Date.now() - t0 < 1000);
  });

  it('stops sending new connections to a backend once the view marks it inactive', async () => {
    const t0 = Date.now();
    dp1!.setView(view({ web1: true, web2: false }));
    await dp1!.idle();
    const applyMs = Date.now() - t0;
    assert.ok(applyMs < 1000, `view applied in ${applyMs} ms`);
    const seen = await spread(cns(T.client), 'http://10.231.1.2/', 8);
    assert.deepEqual([...seen], [['web1', 8]]);
    dp1!.setView(view({ web1: true, web2: true }));
    await dp1!.idle();
  });

  it('gives br0 every VIP of its network and takes a removed service\'s away', async () => {
    const sandbox = listLabNetns().find((n) => n.startsWith(`${LAB_PREFIX}-ov${APP.vni}-${N1.slice(0, 8)}`))!;
    const addrs = async () => (await sh(['ip', '-n', sandbox, '-4', '-br', 'addr', 'show', 'br0'])).trim().split(/\s+/).slice(2).sort();
    assert.deepEqual(await addrs(), ['10.231.1.1/24', '10.231.1.2/32', '10.231.1.3/32']);
    dp1!.setView(view({ web1: true, web2: true }, true, false));
    await dp1!.idle();
    assert.deepEqual(await addrs(), ['10.231.1.1/24', '10.231.1.2/32']);
    assert.equal((await httpGet(cns(T.client), 'http://10.231.1.3/')).ok, false);
    const seen = await spread(cns(T.client), 'http://10.231.1.2/', 4);
    assert.equal(seen.get('error'), undefined, JSON.stringify([...seen]));
    dp1!.setView(view({ web1: true, web2: true }));
    await dp1!.idle();
    assert.deepEqual(await addrs(), ['10.231.1.1/24', '10.231.1.2/32', '10.231.1.3/32']);
    const t0 = Date.now();
    assert.match((await httpGet(cns(T.client), 'http://10.231.1.3/')).out, /refused/);
    assert.ok(Date.now() - t0 < 1000);
  });

  it('keeps bridged frames in every sandbox out of netfilter (br_netfilter off per namespace); br0 routes without redirects', async () => {
    const sandboxes = listLabNetns().filter((n) => n.startsWith(`${LAB_PREFIX}-ov`));
    assert.ok(sandboxes.length >= 4, sandboxes.join(' ')); // app and ingress on both hosts
    assert.ok(existsSync('/proc/sys/net/bridge'), 'br_netfilter is not loaded and modprobe br_netfilter failed; load it (dockerd does) and run again');
    const sysctl = async (sb: string, path: string) => (await sh(inNs(sb, ['cat', `/proc/sys/net/${path}`]))).trim();
    for (const sb of sandboxes) {
      for (const key of ['iptables', 'ip6tables', 'arptables']) assert.equal(await sysctl(sb, `bridge/bridge-nf-call-${key}`), '0', `${sb} ${key}`);
      // br0 forwards VIP connections back out of itself: a redirect would send the client past the translation.
      for (const [path, want] of [['ipv4/ip_forward', '1'], ['ipv4/conf/all/send_redirects', '0'], ['ipv4/conf/br0/send_redirects', '0']]) assert.equal(await sysctl(sb, path!), want, `${sb} ${path}`);
    }
  });

  it('routes a published port from any host address to replicas on both hosts (routing mesh)', async () => {
    await dp2!.idle();
    const fromOther = await spread(h2, 'http://192.168.251.1:8080/', 16);
    assert.ok(fromOther.get('web1')! > 0 && fromOther.get('web2')! > 0, JSON.stringify([...fromOther]));
    const local = await httpGet(h1, 'http://192.168.251.1:8080/');
    assert.ok(local.ok, local.out);
  });

  it('publishes a host-mode port straight to the local task (gateway interface only)', async () => {
    pids.set(T.web3, lab.web('web3'));
    await dp1!.attach(task(T.web3, HOSTSVC, []), pids.get(T.web3)!);
    assert.equal((await httpGet(h2, 'http://192.168.251.1:9090/')).out.trim(), 'web3');
    assert.equal((await httpGet(h2, 'http://192.168.251.2:9090/')).ok, false); // no such task on h2
  });

  it('refuses to plumb an encrypted network with a message for the user', async () => {
    const enc = { ...APP, id: 'netenc', vni: 5002, spec: { name: 'secret', driver: 'overlay', driverOpts: { encrypted: '' } } };
    await assert.rejects(dp1!.attach(task('tencxxxxxxxxxxxxxxxxx', WEB, [[enc, '10.231.2.5/24']]), pids.get(T.client)!), {
      message: 'encrypted overlay networks are not supported yet (network secret)',
    });
  });

  it('a restarted data plane adopts sandboxes, containers and gateway addresses; containers keep their network meanwhile', async () => {
    const gwBefore = await sh(['ip', '-n', cns(T.client), '-br', 'addr', 'show', 'eth1']);
    await dp1!.close({ teardown: false });
    assert.equal((await httpGet(cns(T.client), 'http://10.231.1.12/')).out.trim(), 'web2');
    // What a tswarmd from before VIPs moved into the sandbox left: DNAT of the container's own,
    // here to nowhere, and a sandbox bridge with no address and a MAC of the kernel's choosing.
    await sh(inNs(cns(T.client), ['nft', '-f', '-']), 'table ip tswarm_lb {\n chain output {\n type nat hook output priority -100; policy accept;\n ip daddr 10.231.1.2 dnat to 10.231.1.99\n }\n}\n');
    const sandbox = sandboxName(LAB_PREFIX, APP.vni, N1);
    await sh(['ip', '-n', sandbox, 'addr', 'flush', 'dev', 'br0']);
    await sh(['ip', '-n', sandbox, 'link', 'set', 'br0', 'address', '02:11:22:33:44:55']);
    dp1 = await mk(N1, h1);
    assert.equal((await httpGet(h2, 'http://192.168.251.1:9090/')).out.trim(), 'web3'); // the ports chain survived start-up
    dp1.setView(view({ web1: true, web2: true }));
    for (const [id, svc, nets] of [[T.web1, WEB, [[APP, '10.231.1.11/24'], [ING, '10.231.0.11/24']]], [T.client, 'svcclient', [[APP, '10.231.1.21/24']]], [T.web3, HOSTSVC, []]] as const) {
      await dp1.attach(task(id, svc, nets as unknown as [typeof APP, string][]), pids.get(id)!);
    }
    await dp1.sweep(new Set([T.web1, T.client, T.web3]));
    assert.equal(await sh(['ip', '-n', cns(T.client), '-br', 'addr', 'show', 'eth1']), gwBefore);
    assert.equal((await sh(inNs(cns(T.client), ['nft', 'list', 'tables']))).trim(), '', 'the old per-container VIP table is gone');
    assert.match(await sh(['ip', '-n', sandbox, 'link', 'show', 'br0']), new RegExp(`link/ether ${sandboxBridgeMac(N1, APP.vni)} `));
    const seen = await spread(cns(T.client), 'http://10.231.1.2/', 12);
    assert.ok(seen.get('web1')! > 0 && seen.get('web2')! > 0, JSON.stringify([...seen]));
    assert.equal((await httpGet(h2, 'http://192.168.251.1:8080/')).ok, true);
  });

  it('sweep removes what no kept task needs', async () => {
    await dp1!.sweep(new Set([T.web1, T.client]));
    assert.ok(!listLabNetns().includes(cns(T.web3)));
    assert.equal((await httpGet(h2, 'http://192.168.251.1:9090/')).ok, false);
  });

  it('removes the sandbox on the last detach and the ingress sandbox when no port is published', async () => {
    await dp1!.detach(T.client);
    assert.ok(!listLabNetns().includes(cns(T.client)));
    await dp1!.sweep(new Set([T.web1]));
    dp1!.setView(view({ web1: true, web2: true }, false));
    await dp1!.detach(T.web1);
    const left = listLabNetns().filter((n) => n.includes(N1.slice(0, 8)) || n === cns(T.web1));
    assert.deepEqual(left, []);
  });

  it('close({teardown: true}) leaves no namespace, link or nft table behind', async () => {
    await dp2!.sweep(new Set([T.web2]));
    await dp2!.close({ teardown: true });
    await dp1!.close({ teardown: true });
    assert.deepEqual(listLabNetns().sort(), [h1, h2].sort());
    for (const h of [h1, h2]) {
      assert.deepEqual((await sh(['ip', '-n', h, '-br', 'link'])).split('\n').filter(Boolean).map((l) => l.split(/\s+/)[0]!.split('@')[0]).sort(), ['eth0', 'lo']);
      assert.equal((await sh(inNs(h, ['nft', 'list', 'tables']))).trim(), '');
    }
  });
});
