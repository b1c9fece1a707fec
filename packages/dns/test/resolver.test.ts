import { strict as assert } from 'node:assert';
import * as dgram from 'node:dgram';
import { EndpointMode, silentLogger } from '@tswarm/api';
import { ServiceResolver, parseUpstream, upstreamsFromResolvConf, type ResolverOptions } from '../src/index.js';
import { BACK, clusterView, endpoint, FRONT, seq, service } from './fixtures.js';
import { FakeUpstream, manyA, query, TcpClient, udpExchange, udpQuery, type Reply } from './dns-client.js';

const ips = (r: Reply): string[] => (r.packet.answers ?? []).map((a) => (a as { data: string }).data);
const rcode = (r: Reply): string | undefined => r.packet.rcode;

/** Answers example.com; big.example.com truncated over UDP and whole over TCP; silent.* never. */
async function upstream(): Promise<FakeUpstream> {
  return FakeUpstream.start((q, via) => {
    if (q.name.startsWith('silent.')) return 'silent';
    if (q.name === 'big.example.com') {
      return via === 'udp' ? { flags: 0x0200, answers: [] } : { answers: manyA(q.name, 100) };
    }
    if (q.name === 'example.com') return { answers: [{ type: 'A', name: q.name, ttl: 300, data: '93.184.216.34' }] };
    return { flags: 3, answers: [] }; // NXDOMAIN
  });
}

describe('ServiceResolver on sockets (127.0.0.1)', function () {
  let up: FakeUpstream;
  let resolver: ServiceResolver;
  let port: number;

  async function start(extra: Partial<ResolverOptions> = {}): Promise<ServiceResolver> {
    const r = await ServiceResolver.start({
      host: '127.0.0.1', port: 0, logger: silentLogger, upstreams: [`127.0.0.1:${up.port}`],
      upstreamTimeoutMs: 150, random: seq(0.5), ...extra,
    });
    r.setView(clusterView());
    r.setClients(new Map([['127.0.0.1', [FRONT]], ['127.0.0.2', [BACK]]]));
    return r;
  }

  beforeEach(async () => {
    up = await upstream();
    resolver = await start();
    port = resolver.address.port;
  });
  afterEach(async () => {
    await resolver.close();
    await up.close();
  });

  it('binds UDP and TCP on one free port', () => {
    assert.equal(resolver.address.host, '127.0.0.1');
    assert.ok(port > 0);
  });

  it('answers a service name over UDP with its VIP, authoritative, TTL 0', async () => {
    const r = await udpQuery(port, 'web');
    assert.deepEqual(ips(r), ['10.0.1.2']);
    assert.equal(rcode(r), 'NOERROR');
    assert.ok(r.packet.flag_aa);
    assert.equal((r.packet.answers![0] as { ttl: number }).ttl, 0);
  });

  it('identifies the client by source address: each sees its own networks', async () => {
    assert.deepEqual(ips(await udpQuery(port, 'web', 'A', { from: '127.0.0.2' })), ['10.0.2.2']);
    assert.equal(rcode(await udpQuery(port, 'db', 'A', { from: '127.0.0.1' })), 'NXDOMAIN');
    assert.equal(ips(await udpQuery(port, 'db', 'A', { from: '127.0.0.2' })).length, 3);
    assert.equal(rcode(await udpQuery(port, 'web', 'A', { from: '127.0.0.3' })), 'NXDOMAIN', 'undeclared client');
  });

  it('answers NODATA to AAAA of a known name and NXDOMAIN to an unknown single label', async () => {
    const aaaa = await udpQuery(port, 'web', 'AAAA');
    assert.equal(rcode(aaaa), 'NOERROR');
    assert.deepEqual(ips(aaaa), []);
    assert.equal(rcode(await udpQuery(port, 'nosuchservice')), 'NXDOMAIN');
    assert.equal(up.asked.length, 0, 'nothing was forwarded');
  });

  it('answers several pipelined queries on one TCP connection', async () => {
    const c = await TcpClient.connect(port);
    try {
      c.send(query('web', 'A', { id: 101 }));
      c.send(query('tasks.web', 'A', { id: 102 }));
      c.send(query('nope', 'A', { id: 103 }));
      const replies = [await c.next(), await c.next(), await c.next()].sort((x, y) => x.packet.id! - y.packet.id!);
      assert.deepEqual(ips(replies[0]!), ['10.0.1.2']);
      assert.deepEqual([...ips(replies[1]!)].sort(), ['10.0.1.10', '10.0.1.11']);
      assert.equal(rcode(replies[2]!), 'NXDOMAIN');
    } finally {
      c.close();
    }
  });

  it('truncates a large dnsrr answer over UDP (TC) and gives it whole over TCP', async () => {
    const endpoints = Array.from({ length: 40 }, (_, i) => endpoint(FRONT, 's-big', `big.${i}.t${i}`, `10.0.1.${100 + i}/24`));
    resolver.setView(clusterView({ services: [service('s-big', 'big', {}, EndpointMode.ENDPOINT_MODE_DNSRR)], endpoints }));
    const udp = await udpQuery(port, 'big');
    assert.ok(udp.packet.flag_tc && udp.raw.length <= 512);
    const c = await TcpClient.connect(port);
    try {
      c.send(query('big'));
      const tcp = await c.next();
      assert.ok(!tcp.packet.flag_tc);
      assert.equal(ips(tcp).length, 40);
    } finally {
      c.close();
    }
    assert.equal(resolver.stats().truncated, 1);
  });

  it('takes a view update into account on the next query', async () => {
    assert.deepEqual([...ips(await udpQuery(port, 'tasks.web'))].sort(), ['10.0.1.10', '10.0.1.11']);
    const scaled = clusterView();
    scaled.endpoints = scaled.endpoints.filter((e) => e.taskName !== 'web.2.bbb');
    resolver.setView(scaled);
    assert.deepEqual(ips(await udpQuery(port, 'tasks.web')), ['10.0.1.10']);
    resolver.setClients(new Map([['127.0.0.1', [BACK]]]));
    assert.deepEqual(ips(await udpQuery(port, 'web')), ['10.0.2.2'], 'client map update too');
  });

  it('forwards other names to the upstream and relays its answer unchanged', async () => {
    const msg = query('example.com', 'A', { id: 999 });
    const r = (await udpExchange(port, msg))!;
    assert.equal(r.packet.id, 999);
    assert.deepEqual(ips(r), ['93.184.216.34']);
    assert.deepEqual(up.asked, [{ name: 'example.com', type: 'A', via: 'udp' }]);
    assert.equal(rcode(await udpQuery(port, 'nowhere.example.org')), 'NXDOMAIN', "the upstream's NXDOMAIN");
    assert.equal(resolver.stats().forwarded, 2);
  });

  it('answers SERVFAIL soon after the upstream timeout when no upstream answers', async () => {
    const t0 = Date.now();
    const r = await udpQuery(port, 'silent.example.com');
    assert.equal(rcode(r), 'SERVFAIL');
    assert.ok(Date.now() - t0 < 1000, `${Date.now() - t0} ms`);
    assert.equal(resolver.stats().servfail, 1);
  });

  it('tries the next upstream when one does not answer', async () => {
    const blackhole = dgram.createSocket('udp4');
    await new Promise<void>((r) => blackhole.bind(0, '127.0.0.1', r));
    await resolver.close();
    resolver = await start({ upstreams: [`127.0.0.1:${blackhole.address().port}`, `127.0.0.1:${up.port}`] });
    try {
      assert.deepEqual(ips(await udpQuery(resolver.address.port, 'example.com')), ['93.184.216.34']);
    } finally {
      blackhole.close();
    }
  });

  it('retries a truncated upstream answer over TCP when the client asked over TCP', async () => {
    const udp = await udpQuery(port, 'big.example.com');
    assert.ok(udp.packet.flag_tc, 'a UDP client gets the truncated answer and retries itself');
    const c = await TcpClient.connect(port);
    try {
      c.send(query('big.example.com'));
      const r = await c.next();
      assert.equal(ips(r).length, 100);
      assert.deepEqual(up.asked.map((a) => a.via), ['udp', 'udp', 'tcp']);
    } finally {
      c.close();
    }
  });

  it('drops malformed datagrams, counts them, and keeps answering', async () => {
    assert.equal(await udpExchange(port, Buffer.from('not dns at all'), { timeoutMs: 200 }), undefined);
    assert.equal(await udpExchange(port, Buffer.alloc(3), { timeoutMs: 200 }), undefined);
    assert.equal(resolver.stats().malformed, 2);
    assert.deepEqual(ips(await udpQuery(port, 'web')), ['10.0.1.2']);
  });

  it('closes a TCP connection that sends a malformed frame, and keeps serving others', async () => {
    const bad = await TcpClient.connect(port);
    bad.send(Buffer.from('garbage!garbage!'));
    await bad.waitClosed();
    assert.equal(resolver.stats().malformed, 1);
    const good = await TcpClient.connect(port);
    try {
      good.send(query('web'));
      assert.deepEqual(ips(await good.next()), ['10.0.1.2']);
    } finally {
      good.close();
    }
  });

  it('starts without upstreams: swarm names work, outside names get SERVFAIL', async () => {
    await resolver.close();
    resolver = await start({ upstreams: [] });
    assert.equal(rcode(await udpQuery(resolver.address.port, 'example.com')), 'SERVFAIL');
    assert.deepEqual(ips(await udpQuery(resolver.address.port, 'web')), ['10.0.1.2']);
  });
});

describe('upstream configuration', () => {
  it('parses IP, IP:PORT and bracketed IPv6 and refuses anything else in one line', () => {
    assert.deepEqual(parseUpstream('8.8.8.8'), { host: '8.8.8.8', port: 53 });
    assert.deepEqual(parseUpstream('10.0.0.2:5353'), { host: '10.0.0.2', port: 5353 });
    assert.deepEqual(parseUpstream('2001:db8::1'), { host: '2001:db8::1', port: 53 });
    assert.deepEqual(parseUpstream('[2001:db8::1]:54'), { host: '2001:db8::1', port: 54 });
    for (const bad of ['dns.google', '1.2.3.4:0', '1.2.3.4:x', '']) {
      assert.throws(() => parseUpstream(bad), /invalid upstream DNS server .*expected IP or IP:PORT/);
    }
  });

  it('reads nameserver lines of resolv.conf in order, loopback ones included', () => {
    const conf = '# generated\nsearch example.com\nnameserver 127.0.0.53\nnameserver fe80::1%eth0\n  nameserver 1.1.1.1\noptions ndots:0\nnameserver bogus\n';
    assert.deepEqual(upstreamsFromResolvConf(conf), [
      { host: '127.0.0.53', port: 53 }, { host: 'fe80::1', port: 53 }, { host: '1.1.1.1', port: 53 },
    ]);
  });
});
