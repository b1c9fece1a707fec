// A test-only interpreter for the eBPF subset asm.ts emits, run over an Ethernet frame with the
// helpers recorded instead of executed: lets the unit tests check what a fast-path program
// does to a frame (which helper, which arguments, which verdict) without a kernel.
import type { Insn } from '../src/index.js';

export interface Run {
  readonly verdict: number;
  readonly calls: readonly { helper: number; args: readonly bigint[] }[];
}

const SKB_DATA = 76;
const SKB_DATA_END = 80;
const MASK64 = (1n << 64n) - 1n;
const CTX = 1n << 40n; // fake pointers: ctx, packet start
const PKT = 2n << 40n;

/** Runs resolved instructions; helpers return `helperResult` (e.g. TC_ACT_REDIRECT = 7). */
export function runProgram(insns: readonly Insn[], frame: Buffer, helperResult = 7n): Run {
  const r = new Array<bigint>(11).fill(0n);
  r[1] = CTX;
  const calls: { helper: number; args: bigint[] }[] = [];
  const load = (addr: bigint, size: 1 | 2 | 4): bigint => {
    if (addr === CTX + BigInt(SKB_DATA) && size === 4) return PKT;
    if (addr === CTX + BigInt(SKB_DATA_END) && size === 4) return PKT + BigInt(frame.length);
    const off = Number(addr - PKT);
    if (off < 0 || off + size > frame.length) throw new Error(`out-of-bounds load at ${off}`);
    return BigInt(size === 4 ? frame.readUInt32LE(off) : size === 2 ? frame.readUInt16LE(off) : frame.readUInt8(off));
  };
  const sext32 = (v: number): bigint => BigInt.asUintN(64, BigInt(v));
  for (let pc = 0, steps = 0; steps < 10_000; steps++) {
    const x = insns[pc];
    if (!x) throw new Error(`fell off the program at ${pc}`);
    pc++;
    const imm = sext32(x.imm);
    switch (x.op) {
      case 0xbf: r[x.dst] = r[x.src]!; break;
      case 0xb7: r[x.dst] = imm; break;
      case 0x07: r[x.dst] = (r[x.dst]! + imm) & MASK64; break;
      case 0x57: r[x.dst] = r[x.dst]! & imm; break;
      case 0x61: r[x.dst] = load(r[x.src]! + BigInt(x.off), 4); break;
      case 0x69: r[x.dst] = load(r[x.src]! + BigInt(x.off), 2); break;
      case 0x71: r[x.dst] = load(r[x.src]! + BigInt(x.off), 1); break;
      case 0x25: if (r[x.dst]! > imm) pc += x.off; break;
      case 0x15: if (r[x.dst]! === imm) pc += x.off; break;
      case 0x2d: if (r[x.dst]! > r[x.src]!) pc += x.off; break;
      case 0x55: if (r[x.dst]! !== imm) pc += x.off; break;
      case 0x56: if ((r[x.dst]! & 0xffffffffn) !== (imm & 0xffffffffn)) pc += x.off; break;
      case 0x05: pc += x.off; break;
      case 0x85:
        calls.push({ helper: x.imm, args: [r[1]!, r[2]!, r[3]!, r[4]!, r[5]!] });
        r[0] = helperResult;
        for (let i = 1; i <= 5; i++) r[i] = 0xdeadn; // clobbered
        break;
      case 0x95: return { verdict: Number(BigInt.asIntN(32, r[0]!)), calls };
      default: throw new Error(`opcode 0x${x.op.toString(16)} not in the subset`);
    }
  }
  throw new Error('no exit within 10,000 steps');
}

export interface FrameShape {
  /** Ethertype; default IPv4. */
  readonly type?: number;
  /** First byte of the IPv4 header; default 0x45 (version 4, no options). */
  readonly verIhl?: number;
  /** The IPv4 flags-and-offset field; default 0x4000 (DF). */
  readonly frag?: number;
  /** IP protocol; default TCP. */
  readonly proto?: number;
  /** Destination port; default 80. */
  readonly dport?: number;
  /** ICMP type (where a TCP/UDP source port would be). */
  readonly icmpType?: number;
}

/** A 64-byte Ethernet frame to `dst` from `src`: IPv4, TCP to port 80 unless `shape` says otherwise. */
export function frame(dst: string, src = '02:42:0a:00:00:99', shape: FrameShape = {}): Buffer {
  const b = Buffer.alloc(64);
  Buffer.from(dst.split(':').map((h) => parseInt(h, 16))).copy(b, 0);
  Buffer.from(src.split(':').map((h) => parseInt(h, 16))).copy(b, 6);
  b.writeUInt16BE(shape.type ?? 0x0800, 12);
  b.writeUInt8(shape.verIhl ?? 0x45, 14);
  b.writeUInt16BE(shape.frag ?? 0x4000, 20);
  b.writeUInt8(shape.proto ?? 6, 23);
  b.writeUInt16BE(40000, 34);
  if (shape.icmpType !== undefined) b.writeUInt8(shape.icmpType, 34);
  b.writeUInt16BE(shape.dport ?? 80, 36);
  return b;
}

export const CTX_POINTER = CTX;
