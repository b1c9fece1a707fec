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
  const load = (addr: bigint, size: 2 | 4): bigint => {
    if (addr === CTX + BigInt(SKB_DATA) && size === 4) return PKT;
    if (addr === CTX + BigInt(SKB_DATA_END) && size === 4) return PKT + BigInt(frame.length);
    const off = Number(addr - PKT);
    if (off < 0 || off + size > frame.length) throw new Error(`out-of-bounds load at ${off}`);
    return BigInt(size === 4 ? frame.readUInt32LE(off) : frame.readUInt16LE(off));
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

/** A 64-byte Ethernet frame to `dst` from `src`. */
export function frame(dst: string, src = '02:42:0a:00:00:99'): Buffer {
  const b = Buffer.alloc(64);
  Buffer.from(dst.split(':').map((h) => parseInt(h, 16))).copy(b, 0);
  Buffer.from(src.split(':').map((h) => parseInt(h, 16))).copy(b, 6);
  b.writeUInt16BE(0x0800, 12);
  return b;
}

export const CTX_POINTER = CTX;
