// The rtnetlink writer (src/netlink.ts, native/netlink.c): the messages' bytes (pure), the
// writer's force / ignoreMissing semantics over a fake addon (pure), then, as root, a namespace
// `tswnl-…` with a VXLAN device whose FDB, neighbour and route entries are written through the
// addon and read back with bridge and ip.
//
// The expected bytes are what iproute2 6.1.0 sends for the same command, seen with
// `strace -f -e trace=sendmsg -xx -s 300 bridge fdb replace 02:42:0a:00:01:03 dev vxq dst 192.168.1.7 vni 16000000 self permanent`
// (and likewise for `bridge fdb del`, `ip neigh replace|del`, `ip route replace|del`; vxq was
// ifindex 2), minus the nlmsghdr, whose seq and pid differ. One difference, on purpose:
// routeReplace adds RTA_TABLE (main), which ip sends only for tables above 255.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readlinkSync } from 'node:fs';
import {
  NetlinkError, encodeRequests, exchangeError, fdbDel, fdbReplace, nativeNetlink, neighDel, neighReplace, netlinkWriter, routeDel, routeReplace,
  type NetlinkAddon, type NetlinkOp,
} from '../src/index.js';

const hex = (b: Buffer): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');

describe('rtnetlink messages (pure; bytes as iproute2 6.1.0 sends them)', () => {
  it('fdb replace: ndmsg AF_BRIDGE, NUD_NOARP|NUD_PERMANENT, NTF_SELF; NDA_LLADDR padded to 12 bytes, NDA_DST, NDA_VNI in host order', () => {
    const op = fdbReplace(2, '02:42:0a:00:01:03', '192.168.1.7', 16_000_000);
    assert.equal(op.type, 28); // RTM_NEWNEIGH
    assert.equal(op.flags, 0x500); // NLM_F_CREATE | NLM_F_REPLACE
    assert.equal(hex(op.body), [
      '07 00 00 00', '02 00 00 00', 'c0 00 02 00', // family 7, ifindex 2, state 0xc0, flags NTF_SELF, type 0
      '0a 00 02 00', '02 42 0a 00 01 03 00 00', // NDA_LLADDR: nla_len 10 (padding not counted), 2 zero bytes
      '08 00 01 00', 'c0 a8 01 07', // NDA_DST 192.168.1.7, network order
      '08 00 07 00', '00 24 f4 00', // NDA_VNI 16000000 = 0xf42400, host order
    ].join(' '));
    assert.equal(op.label, 'fdb replace 02:42:0a:00:01:03 dst 192.168.1.7 vni 16000000 dev#2');
  });

  it('fdb del: the same header, NDA_LLADDR only, no create/replace flags', () => {
    const op = fdbDel(2, '02:42:0a:00:01:03');
    assert.deepEqual([op.type, op.flags, op.deletes], [29, 0, true]); // RTM_DELNEIGH
    assert.equal(hex(op.body), '07 00 00 00 02 00 00 00 c0 00 02 00 0a 00 02 00 02 42 0a 00 01 03 00 00');
  });

  it('neigh replace and del: ndmsg AF_INET, NUD_PERMANENT, NDA_DST then NDA_LLADDR', () => {
    const rep = neighReplace(2, '10.9.0.77', '02:42:0a:09:00:4d');
    assert.deepEqual([rep.type, rep.flags, rep.deletes], [28, 0x500, false]);
    assert.equal(hex(rep.body), '02 00 00 00 02 00 00 00 80 00 00 00 08 00 01 00 0a 09 00 4d 0a 00 02 00 02 42 0a 09 00 4d 00 00');
    const del = neighDel(2, '10.9.0.77');
    assert.deepEqual([del.type, del.flags, del.deletes], [29, 0, true]);
    assert.equal(hex(del.body), '02 00 00 00 02 00 00 00 80 00 00 00 08 00 01 00 0a 09 00 4d');
  });

  it('route replace: rtmsg /32, table main, proto boot, scope link, unicast; RTA_DST, RTA_PREFSRC, RTA_OIF, RTA_TABLE', () => {
    const op = routeReplace(2, '10.9.0.77', '10.9.0.5');
    assert.deepEqual([op.type, op.flags, op.deletes], [24, 0x500, false]); // RTM_NEWROUTE
    assert.equal(hex(op.body), [
      '02 20 00 00 fe 03 fd 01 00 00 00 00', // AF_INET, dst_len 32, src_len 0, tos 0, table 254, RTPROT_BOOT, RT_SCOPE_LINK, RTN_UNICAST, flags 0
      '08 00 01 00 0a 09 00 4d', '08 00 07 00 0a 09 00 05', '08 00 04 00 02 00 00 00', '08 00 0f 00 fe 00 00 00',
    ].join(' '));
  });

  it('route del: table main, any protocol, scope and type (as ip sends it); RTA_DST, RTA_OIF', () => {
    const op = routeDel(2, '10.9.0.77');
    assert.deepEqual([op.type, op.flags, op.deletes], [25, 0, true]); // RTM_DELROUTE
    assert.equal(hex(op.body), '02 20 00 00 fe 00 ff 00 00 00 00 00 08 00 01 00 0a 09 00 4d 08 00 04 00 02 00 00 00');
  });

  it('lays the messages end to end, each with REQUEST|ACK, its own flags and seq 1..n', () => {
    const ops = [fdbDel(7, '02:42:0a:00:01:03'), neighReplace(7, '10.0.1.3', '02:42:0a:00:01:03'), routeDel(7, '10.0.1.3')];
    const req = encodeRequests(ops);
    assert.equal(req.length, 40 + 48 + 44);
    const headers = [0, 40, 88].map((o) => [req.readUInt32LE(o), req.readUInt16LE(o + 4), req.readUInt16LE(o + 6), req.readUInt32LE(o + 8), req.readUInt32LE(o + 12)]);
    assert.deepEqual(headers, [[40, 29, 0x005, 1, 0], [48, 28, 0x505, 2, 0], [44, 25, 0x005, 3, 0]]);
    assert.equal(hex(req.subarray(88 + 16)), hex(ops[2]!.body));
    assert.equal(encodeRequests([]).length, 0);
  });

  it('refuses what is not a MAC, an IPv4 address, an interface index or a 24-bit VNI', () => {
    assert.throws(() => fdbDel(2, '02:42:0a:00:01'), /not a MAC address: "02:42:0a:00:01"/);
    assert.throws(() => neighDel(2, '10.0.1'), /not an IPv4 address/);
    assert.throws(() => routeDel(0, '10.0.1.3'), /not an interface index: 0/);
    assert.throws(() => fdbReplace(2, '02:42:0a:00:01:03', '192.168.1.7', 1 << 24), /VNI 16777216 is not a 24-bit number/);
  });
});

/**
 * A fake addon, as native/netlink.c behaves: answers each message from `answers` (keyed by
 * fakeName, 0 when absent), stops after a failure when stopAtError, and records each call's
 * message count and stopAtError.
 */
function fakeAddon(answers: Record<string, number>, calls: [number, boolean][]): NetlinkAddon {
  return {
    exchange(_path, request, stopAtError = false) {
      const labels: string[] = [];
      for (let off = 0; off < request.length; off += request.readUInt32LE(off)) labels.push(fakeName(request, off));
      calls.push([labels.length, stopAtError]);
      const out = new Int32Array(labels.length).fill(-1);
      for (let i = 0; i < labels.length; i++) {
        out[i] = answers[labels[i]!] ?? 0;
        if (stopAtError && out[i] !== 0) break;
      }
      return out;
    },
  };
}
/** "m2" for the op whose MAC ends in :02 (the ops below are all FDB ops: MAC at body offset 16). */
const fakeName = (req: Buffer, off: number): string => `m${req[off + 16 + 12 + 4 + 5]}`;
const op = (n: number, del = false): NetlinkOp => (del ? fdbDel(3, `02:00:00:00:00:0${n}`) : fdbReplace(3, `02:00:00:00:00:0${n}`, '192.168.1.7', 4097));

describe('netlink writer semantics (pure, over a fake addon)', () => {
  it('without force stops at the first failure, as ip -batch does: the rest are not sent', () => {
    const calls: [number, boolean][] = [];
    const w = netlinkWriter(fakeAddon({ m2: 19 }, calls));
    assert.throws(() => w.exchange('tswc-abc', [op(1), op(2), op(3), op(4)]), (e: NetlinkError) => {
      assert.equal(e.message, 'netlink in tswc-abc: fdb replace 02:00:00:00:00:02 dst 192.168.1.7 vni 4097 dev#3: No such device (2 not sent)');
      assert.equal(e.code, 'ENODEV');
      assert.equal(e.notSent, 2);
      return true;
    });
    assert.deepEqual(calls, [[4, true]]);
  });

  it('with force sends everything at once and still reports every failure in one line', () => {
    const calls: [number, boolean][] = [];
    const w = netlinkWriter(fakeAddon({ m2: 19, m4: 22 }, calls));
    assert.throws(() => w.exchange('tswc-abc', [op(1), op(2), op(3), op(4)], { force: true }), (e: NetlinkError) => {
      assert.match(e.message, /^netlink in tswc-abc: fdb replace 02:00:00:00:00:02 .*: No such device \(and 1 more failed\)$/);
      assert.deepEqual(e.failures.map((f) => [f.code, f.missing]), [['ENODEV', false], ['EINVAL', false]]);
      return true;
    });
    assert.deepEqual(calls, [[4, false]]);
  });

  it('reports a delete of an absent entry as missing; ignoreMissing counts it done and goes on past it', () => {
    const calls: [number, boolean][] = [];
    const w = netlinkWriter(fakeAddon({ m2: 2, m3: 3 }, calls));
    const ops = [op(1, true), op(2, true), op(3, true), op(4)];
    assert.throws(() => w.exchange('tswc-abc', ops), (e: NetlinkError) => e.failures.length === 1 && e.failures[0]!.missing && e.code === 'ENOENT');
    calls.length = 0;
    w.exchange('tswc-abc', ops, { ignoreMissing: true });
    assert.deepEqual(calls, [[4, true], [2, true], [1, true]]); // resumed after each missing entry
    // ENOENT on a replace is a real failure, whatever ignoreMissing says.
    assert.ok(exchangeError('ns', [op(1)], [2], new Map(), true) instanceof NetlinkError);
  });

  it('refuses a namespace name that is a path', () => {
    const w = netlinkWriter(fakeAddon({}, []));
    assert.throws(() => w.exchange('../etc', [op(1)]), /"..\/etc" is not a network namespace name/);
  });
});

describe('netlink writer in a namespace (root)', function () {
  const NS = `tswnl-${process.pid}`;
  const ip = (...args: string[]): string => execFileSync('ip', ['-n', NS, ...args], { encoding: 'utf8' });
  const json = (cmd: string, ...args: string[]): unknown[] => JSON.parse(execFileSync(cmd, ['-n', NS, '-j', ...args], { encoding: 'utf8' }) || '[]') as unknown[];
  /** The device's entries in a stable order (the kernel lists FDB and neighbour entries in hash order). */
  const sorted = (rows: unknown[], key: string): unknown[] => [...rows].sort((a, b) => String((a as Record<string, unknown>)[key]).localeCompare(String((b as Record<string, unknown>)[key])));
  const fdb = (): unknown[] => sorted(json('bridge', 'fdb', 'show', 'dev', 'vxq'), 'mac');
  const neigh = (): unknown[] => sorted(json('ip', 'neigh', 'show', 'dev', 'vxq'), 'dst');
  const routes = (): unknown[] => sorted(json('ip', '-d', 'route', 'show', 'dev', 'vxq'), 'dst');
  let vxq = 0;
  const endpoints = [3, 4, 5].map((n) => ({ ip: `10.9.1.${n}`, mac: `02:42:0a:09:01:0${n}`, dst: `192.168.1.${10 + n}` }));
  const writeOps = (dstOf: (e: (typeof endpoints)[0]) => string): NetlinkOp[] =>
    endpoints.flatMap((e) => [fdbReplace(vxq, e.mac, dstOf(e), 4097), neighReplace(vxq, e.ip, e.mac), routeReplace(vxq, e.ip, '10.9.0.5')]);
  const deleteOps = (): NetlinkOp[] => endpoints.flatMap((e) => [fdbDel(vxq, e.mac), neighDel(vxq, e.ip), routeDel(vxq, e.ip)]);

  before(function () {
    if (process.getuid?.() !== 0) throw new Error('these integration tests need root (network namespaces); run them as root');
    execFileSync('ip', ['netns', 'add', NS]);
    ip('link', 'add', 'vxq', 'type', 'vxlan', 'id', '16000000', 'dstport', '4789', 'nolearning');
    ip('link', 'set', 'vxq', 'up', 'arp', 'off');
    ip('link', 'add', 'vA', 'type', 'veth', 'peer', 'name', 'vB');
    ip('addr', 'add', '10.9.0.5/24', 'dev', 'vA'); // a local address, so prefsrc 10.9.0.5 is valid
    ip('link', 'set', 'vA', 'up');
    vxq = (json('ip', 'link', 'show', 'vxq')[0] as { ifindex: number }).ifindex;
  });

  after(() => {
    execFileSync('ip', ['netns', 'del', NS]);
  });

  it('writes forwarding, neighbour and route entries for three endpoints in one exchange', () => {
    nativeNetlink().exchange(NS, writeOps((e) => e.dst));
    assert.deepEqual(fdb(), endpoints.map((e) => ({ mac: e.mac, dst: e.dst, vni: 4097, flags: ['self'], state: 'permanent' })));
    assert.deepEqual(neigh(), endpoints.map((e) => ({ dst: e.ip, lladdr: e.mac, state: ['PERMANENT'] })));
    assert.deepEqual(routes(), endpoints.map((e) => ({ type: 'unicast', dst: e.ip, protocol: 'boot', scope: 'link', prefsrc: '10.9.0.5', flags: [] })));
  });

  it('leaves the kernel as `bridge -batch` and `ip -batch` leave it, and replaces in place; deletes remove everything', () => {
    nativeNetlink().exchange(NS, writeOps((e) => e.dst));
    const netlink = { fdb: fdb(), neigh: neigh(), routes: routes() };
    nativeNetlink().exchange(NS, deleteOps());
    assert.deepEqual([fdb(), neigh(), routes()], [[], [], []]);
    const lines = (e: (typeof endpoints)[0]): string[] => [`neigh replace ${e.ip} lladdr ${e.mac} dev vxq nud permanent`, `route replace ${e.ip}/32 dev vxq src 10.9.0.5`];
    execFileSync('bridge', ['-n', NS, '-batch', '-'], { input: endpoints.map((e) => `fdb replace ${e.mac} dev vxq dst ${e.dst} vni 4097 self permanent\n`).join('') });
    execFileSync('ip', ['-n', NS, '-batch', '-'], { input: endpoints.flatMap(lines).join('\n') + '\n' });
    assert.deepEqual({ fdb: fdb(), neigh: neigh(), routes: routes() }, netlink);

    nativeNetlink().exchange(NS, writeOps((e) => (e.ip === '10.9.1.4' ? '192.168.1.99' : e.dst)));
    assert.deepEqual((fdb() as { dst: string }[]).map((f) => f.dst), ['192.168.1.13', '192.168.1.99', '192.168.1.15']);
    nativeNetlink().exchange(NS, deleteOps());
    assert.deepEqual([fdb(), neigh(), routes()], [[], [], []]);
  });

  it('a failing op gives one line naming it; the ops before it are applied, and with force the ops after it too', () => {
    const [a, b] = endpoints;
    const bad = neighReplace(9999, '10.9.1.9', '02:42:0a:09:01:09');
    assert.throws(() => nativeNetlink().exchange(NS, [fdbReplace(vxq, a!.mac, a!.dst, 4097), bad, fdbReplace(vxq, b!.mac, b!.dst, 4097)]),
      { name: 'NetlinkError', message: `netlink in ${NS}: neigh replace 10.9.1.9 lladdr 02:42:0a:09:01:09 dev#9999: No such device (1 not sent)` });
    assert.deepEqual((fdb() as { mac: string }[]).map((f) => f.mac), [a!.mac]);
    assert.throws(() => nativeNetlink().exchange(NS, [bad, fdbReplace(vxq, b!.mac, b!.dst, 4097), fdbDel(9999, a!.mac)], { force: true }), (e: NetlinkError) => {
      assert.match(e.message, /dev#9999: No such device \(and 1 more failed\)$/);
      assert.deepEqual(e.failures.map((f) => [f.code, f.kernelText]), [['ENODEV', undefined], ['ENODEV', 'unknown ifindex']]);
      return true;
    });
    assert.deepEqual((fdb() as { mac: string }[]).map((f) => f.mac), [a!.mac, b!.mac]);
    nativeNetlink().exchange(NS, [fdbDel(vxq, a!.mac), fdbDel(vxq, b!.mac)]);
  });

  it('deleting what is gone fails as missing (ENOENT, or ESRCH for a route) unless ignoreMissing', () => {
    assert.throws(() => nativeNetlink().exchange(NS, deleteOps(), { force: true }), (e: NetlinkError) => {
      assert.deepEqual(e.failures.map((f) => [f.code, f.missing]).slice(0, 3), [['ENOENT', true], ['ENOENT', true], ['ESRCH', true]]);
      assert.equal(e.failures.length, 9);
      return true;
    });
    nativeNetlink().exchange(NS, deleteOps(), { ignoreMissing: true });
  });

  it('sends a large exchange in several chunks and reads every ack (3000 entries, ≈ 170 KB)', () => {
    const macs = Array.from({ length: 3000 }, (_, i) => `02:42:0b:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`);
    nativeNetlink().exchange(NS, macs.map((m) => fdbReplace(vxq, m, '192.168.1.7', 4097)), { force: true });
    assert.equal((fdb() as unknown[]).length, 3000);
    assert.throws(() => nativeNetlink().exchange(NS, macs.map((m) => fdbDel(9999, m)), { force: true }), /\(and 2999 more failed\)$/);
    nativeNetlink().exchange(NS, macs.map((m) => fdbDel(vxq, m)));
    assert.deepEqual(fdb(), []);
  });

  it('a missing namespace is a clear error; the calling thread is back in its own namespace and no descriptor is left open', () => {
    const before = readlinkSync('/proc/thread-self/ns/net');
    const fds = readdirSync('/proc/self/fd').length;
    assert.throws(() => nativeNetlink().exchange('tswnl-absent', [fdbDel(vxq, endpoints[0]!.mac)]), (e: Error & { code?: string }) => {
      assert.equal(e.message, 'open /run/netns/tswnl-absent: No such file or directory');
      assert.equal(e.code, 'ENOENT');
      return true;
    });
    nativeNetlink().exchange(NS, writeOps((e) => e.dst));
    nativeNetlink().exchange(NS, deleteOps());
    assert.throws(() => nativeNetlink().exchange(NS, [routeDel(vxq, endpoints[0]!.ip)]), /No such process/);
    assert.equal(readlinkSync('/proc/thread-self/ns/net'), before);
    assert.equal(readdirSync('/proc/self/fd').length, fds);
  });
});
