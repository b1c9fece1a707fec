// The eBPF fast path's pure parts: the assembler's encoding (bytes checked against llvm-mc-14
// `-triple bpfel -show-encoding`), the programs' behaviour on frames (test/bpf-interp.ts) and
// the sandbox planner.
import * as assert from 'node:assert/strict';
import {
  Asm, BPF_FUNC_REDIRECT, BPF_FUNC_REDIRECT_PEER, BPF_FUNC_SKB_CHANGE_TYPE, TC_ACT_OK, attachLines, detachLines, encode, fromOverlayProgram,
  macWords, planFastPath, toOverlayProgram, txReceiveLines, txReceiveProgram, verifierSummary, VIP_SOURCE_PORTS, type FastPathPlan,
} from '../src/index.js';
import { CTX_POINTER, frame, runProgram, type FrameShape } from './bpf-interp.js';

const hex = (b: Buffer): string => [...b].map((x) => x.toString(16).padStart(2, '0')).join(' ');

describe('eBPF assembler (pure; encodings as llvm-mc-14 prints them)', () => {
  const cases: [string, (a: Asm) => Asm, string][] = [
    ['r6 = r1', (a) => a.mov(6, 1), 'bf 16 00 00 00 00 00 00'],
    ['r2 = *(u32 *)(r1 + 76)', (a) => a.ldxW(2, 1, 76), '61 12 4c 00 00 00 00 00'],
    ['r8 = *(u16 *)(r2 + 4)', (a) => a.ldxH(8, 2, 4), '69 28 04 00 00 00 00 00'],
    ['r4 += 6', (a) => a.addImm(4, 6), '07 04 00 00 06 00 00 00'],
    ['r4 &= 1', (a) => a.andImm(4, 1), '57 04 00 00 01 00 00 00'],
    ['r1 = 7', (a) => a.movImm(1, 7), 'b7 01 00 00 07 00 00 00'],
    ['r4 = *(u8 *)(r2 + 23)', (a) => a.ldxB(4, 2, 23), '71 24 17 00 00 00 00 00'],
    ['if r4 == 1 goto +0', (a) => a.jeqImm(4, 1, 'next').label('next').exit(), '15 04 00 00 01 00 00 00 95 00 00 00 00 00 00 00'],
    ['if r4 > 238 goto +0', (a) => a.jgtImm(4, 238, 'next').label('next').exit(), '25 04 00 00 ee 00 00 00 95 00 00 00 00 00 00 00'],
    ['r1 = -1', (a) => a.movImm(1, -1), 'b7 01 00 00 ff ff ff ff'],
    ['call 155', (a) => a.call(155), '85 00 00 00 9b 00 00 00'],
    ['exit', (a) => a.exit(), '95 00 00 00 00 00 00 00'],
  ];
  for (const [text, build, bytes] of cases) {
    it(`encodes ${text}`, () => assert.equal(hex(build(new Asm()).assemble()), bytes));
  }

  it('resolves forward and backward jumps to offsets relative to the next instruction', () => {
    const a = new Asm()
      .label('top')
      .jgt(4, 3, 'out') // +3
      .jne32Imm(7, 0xcafebabe, 'out') // unsigned immediate stored as its signed 32-bit value; +2
      .jneImm(8, 0x0302, 'out') // +1
      .ja('top') // -4
      .label('out')
      .exit();
    const bytes = a.assemble();
    assert.equal(bytes.length, 5 * 8);
    const words = [0, 1, 2, 3].map((i) => hex(bytes.subarray(i * 8, i * 8 + 8)));
    assert.equal(words[0], '2d 34 03 00 00 00 00 00');
    assert.equal(words[1], '56 07 02 00 be ba fe ca');
    assert.equal(words[2], '55 08 01 00 02 03 00 00');
    assert.equal(words[3], '05 00 fc ff 00 00 00 00');
  });

  it('refuses undefined or duplicate labels, a label past the end, and out-of-range operands', () => {
    assert.throws(() => new Asm().ja('nowhere').exit().assemble(), /label nowhere is not defined/);
    assert.throws(() => new Asm().label('x').label('x'), /defined twice/);
    assert.throws(() => new Asm().exit().ja('end').label('end').assemble(), /past the last instruction/);
    assert.throws(() => new Asm().movImm(0, 2 ** 32), /does not fit in 32 bits/);
    assert.throws(() => new Asm().ldxW(0, 1, 40_000), /does not fit in 16 bits/);
    assert.throws(() => encode([{ op: 0x05, dst: 0, src: 0, off: 0, imm: 0, target: 'x' }]), /not resolved/);
  });
});

const A = '02:42:0a:00:01:05';
const B = '02:42:0a:00:01:06';
const BR = '7a:11:22:33:44:55';
const REMOTE = '02:42:0a:00:01:09';
/** C is local but its veth is not in place yet: no redirect to it, and never to the VXLAN device. */
const C = '02:42:0a:00:01:07';
const PLAN: FastPathPlan = { vxlanIfindex: 3, bridgeMac: BR, endpoints: [{ mac: A, ifindex: 11 }, { mac: B, ifindex: 12 }], localMacs: [A, B, C] };

describe('fast-path programs (pure, run on frames by a test interpreter)', () => {
  it('reads a MAC as the little-endian words the program loads', () => {
    assert.deepEqual(macWords('02:42:0a:00:01:05'), { hi: 0x000a4202, lo: 0x0501 });
    assert.throws(() => macWords('02:42:0a:00:01'), /not a MAC address/);
  });

  const from = fromOverlayProgram(PLAN).resolve();
  const to = toOverlayProgram(PLAN).resolve();

  it('from the overlay: a frame to a local endpoint is marked PACKET_HOST and redirected into its container (bpf_redirect_peer)', () => {
    for (const [mac, ifindex] of [[A, 11n], [B, 12n]] as const) {
      const run = runProgram(from, frame(mac));
      assert.equal(run.verdict, 7);
      assert.deepEqual(run.calls.map((c) => [c.helper, c.args[0], c.args[1]]), [
        [BPF_FUNC_SKB_CHANGE_TYPE, CTX_POINTER, 0n],
        [BPF_FUNC_REDIRECT_PEER, ifindex, 0n],
      ]);
    }
  });

  /** Frames to a local endpoint that must go up to br0 first (lb.ts). */
  const up: [string, FrameShape][] = [
    ['TCP to the first port of the VIP source range', { dport: VIP_SOURCE_PORTS.first }],
    ['UDP to a port above it', { proto: 17, dport: 65535 }],
    ['TCP to 0xef00 (high byte alone decides)', { dport: 0xef00 }],
    ['ICMP destination unreachable', { proto: 1, icmpType: 3 }],
    ['ICMP time exceeded', { proto: 1, icmpType: 11 }],
    ['ICMP parameter problem', { proto: 1, icmpType: 12 }],
    ['a later fragment', { frag: 0x00b9 }],
    ['a first fragment (more fragments)', { frag: 0x2000 }],
    ['an IPv4 header with options', { verIhl: 0x46 }],
  ];
  /** Frames that go to the endpoint directly. */
  const direct: [string, FrameShape][] = [
    ['TCP to the port just below the range', { dport: VIP_SOURCE_PORTS.first - 1 }],
    ['UDP to 0xee00 (same high byte, lower)', { proto: 17, dport: 0xee00 }],
    ['a don\'t-fragment TCP segment', { frag: 0x4000 }],
    ['another IP protocol (SCTP)', { proto: 132, dport: 62000 }],
    ['an ICMP echo reply', { proto: 1, icmpType: 0, dport: 62000 }],
    ['an ICMP echo request', { proto: 1, icmpType: 8, dport: 62000 }],
    ['ARP', { type: 0x0806, dport: 62000 }],
  ];

  it('from the overlay: a frame to a local endpoint that must go up to br0 first (lb.ts) takes the bridge', () => {
    for (const [what, shape] of up) {
      const run = runProgram(from, frame(A, undefined, shape));
      assert.deepEqual([run.verdict, run.calls.length], [TC_ACT_OK, 0], what);
    }
    for (const [what, shape] of direct) {
      const run = runProgram(from, frame(A, undefined, shape));
      assert.equal(run.calls[1]?.helper, BPF_FUNC_REDIRECT_PEER, what);
    }
  });

  it('from the overlay: broadcast, the bridge, unknown MACs, a local endpoint without its veth yet and a MAC differing only in its last two bytes go to the bridge', () => {
    for (const mac of ['ff:ff:ff:ff:ff:ff', BR, REMOTE, C, '02:42:0a:00:ff:05', '02:42:0a:01:01:05']) {
      const run = runProgram(from, frame(mac));
      assert.deepEqual([run.verdict, run.calls.length], [TC_ACT_OK, 0], mac);
    }
  });

  it('to the overlay: a unicast frame to a remote MAC is redirected to the VXLAN device (bpf_redirect)', () => {
    const run = runProgram(to, frame(REMOTE));
    assert.equal(run.verdict, 7);
    assert.deepEqual(run.calls.map((c) => [c.helper, c.args[0], c.args[1]]), [[BPF_FUNC_REDIRECT, 3n, 0n]]);
  });

  it('to the overlay: local endpoints (with or without their veth yet), the bridge, broadcast and multicast stay on the bridge', () => {
    for (const mac of [A, B, C, BR, 'ff:ff:ff:ff:ff:ff', '01:00:5e:00:00:01', '33:33:00:00:00:01']) {
      const run = runProgram(to, frame(mac));
      assert.deepEqual([run.verdict, run.calls.length], [TC_ACT_OK, 0], mac);
    }
  });

  it('passes frames too short to hold a MAC without reading them', () => {
    assert.deepEqual(runProgram(from, Buffer.alloc(5)).verdict, TC_ACT_OK);
    assert.deepEqual(runProgram(to, Buffer.alloc(5)).verdict, TC_ACT_OK);
  });

  it('with no local endpoint, from-overlay passes everything and to-overlay still refuses only the bridge', () => {
    const empty = { ...PLAN, endpoints: [], localMacs: [] };
    assert.equal(runProgram(fromOverlayProgram(empty).resolve(), frame(A)).calls.length, 0);
    assert.equal(runProgram(toOverlayProgram(empty).resolve(), frame(A)).calls[0]?.helper, BPF_FUNC_REDIRECT);
    assert.equal(runProgram(toOverlayProgram(empty).resolve(), frame(BR)).calls.length, 0);
  });

  it('the transmit device\'s ingress: what must go up to br0 first leaves through ethN (bpf_redirect to its egress), the rest goes up the container\'s own stack', () => {
    const rx = txReceiveProgram(4).resolve();
    for (const [what, shape] of up) {
      const run = runProgram(rx, frame(A, undefined, shape));
      assert.deepEqual([run.verdict, run.calls.map((c) => [c.helper, c.args[0], c.args[1]])], [7, [[BPF_FUNC_REDIRECT, 4n, 0n]]], what);
    }
    for (const [what, shape] of direct) {
      const run = runProgram(rx, frame(A, undefined, shape));
      assert.deepEqual([run.verdict, run.calls.length], [TC_ACT_OK, 0], what);
    }
  });

  it('summarizes a verifier log by its last lines', () => {
    assert.equal(verifierSummary('0: (b7) r0 = 0\n1: (95) exit\n\nR0 !read_ok\nprocessed 2 insns\n', 2), 'R0 !read_ok | processed 2 insns');
  });
});

describe('fast-path planner (pure)', () => {
  const link = (ifname: string, ifindex: number, mac: string, master?: string) => ({ ifname, ifindex, mac, up: true, mtu: 1450, addrs: [], cidrs: [], ...(master ? { master } : {}) });
  const links = [link('lo', 1, '00:00:00:00:00:00'), link('br0', 2, 'AA:BB:CC:00:00:01'), link('vx4097', 3, '0a:0b:0c:0d:0e:0f', 'br0'),
    link('vt2aaaa', 7, '12:00:00:00:00:07', 'br0'), link('vt1aaaa', 6, '12:00:00:00:00:06', 'br0'), link('vstray', 8, '12:00:00:00:00:08')];

  it('maps endpoints to their sandbox-side veth ifindex, sorted by MAC; a veth not (yet) on br0 gets no redirect but its MAC stays local', () => {
    const r = planFastPath(links, 'vx4097', [{ veth: 'vt2aaaa', mac: B.toUpperCase() }, { veth: 'vt1aaaa', mac: A }, { veth: 'vstray', mac: REMOTE }, { veth: 'vmissing', mac: '02:42:0a:00:01:10' }]);
    assert.ok(r.ok);
    assert.deepEqual(r.plan, {
      vxlanIfindex: 3, bridgeMac: 'aa:bb:cc:00:00:01', endpoints: [{ mac: A, ifindex: 6 }, { mac: B, ifindex: 7 }],
      localMacs: [A, B, REMOTE, '02:42:0a:00:01:10'], // vstray's and vmissing's MACs are still local
    });
    assert.deepEqual(r.veths, ['vt1aaaa', 'vt2aaaa']);
  });

  it('says why when the sandbox lacks its VXLAN device or bridge', () => {
    assert.deepEqual(planFastPath(links, 'vx5000', []), { ok: false, reason: 'the sandbox has no vx5000' });
    assert.deepEqual(planFastPath(links.filter((l) => l.ifname !== 'br0'), 'vx4097', []), { ok: false, reason: 'the sandbox has no br0' });
  });

  it('puts the receive program on a container\'s transmit device\'s ingress', () => {
    assert.deepEqual(txReceiveLines('vxtx1', '/p/rx'), [
      'qdisc replace dev vxtx1 clsact',
      'filter replace dev vxtx1 ingress pref 10 handle 1 bpf da object-pinned /p/rx',
    ]);
  });

  it('attaches through clsact with filters replaced in place, and detaches by priority', () => {
    assert.deepEqual(attachLines('vx4097', ['vt1aaaa'], { from: '/p/a.from', to: '/p/a.to' }), [
      'qdisc replace dev vx4097 clsact',
      'filter replace dev vx4097 ingress pref 10 handle 1 bpf da object-pinned /p/a.from',
      'qdisc replace dev vt1aaaa clsact',
      'filter replace dev vt1aaaa ingress pref 10 handle 1 bpf da object-pinned /p/a.to',
    ]);
    assert.deepEqual(detachLines(['vx4097', 'vt1aaaa']), ['filter del dev vx4097 ingress pref 10', 'filter del dev vt1aaaa ingress pref 10']);
  });
});
