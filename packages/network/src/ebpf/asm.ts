// A minimal eBPF assembler: only the instructions the overlay's fast-path programs use
// (programs.ts), encoded as the kernel reads them (Documentation/bpf/standardization/
// instruction-set.rst). Pure: instructions in, bytes out; jumps name labels, resolved at the end.
//
// Encoding of one instruction, 8 bytes, little-endian host (x86-64, arm64 — the kernel takes
// programs in host byte order; `assemble` is only ever called for the host that loads them):
//   byte 0: opcode = operation | source (K: immediate, X: register) | class
//   byte 1: dst register in the low nibble, src register in the high nibble
//   bytes 2-3: signed 16-bit offset (memory offset, or jump distance in instructions after this one)
//   bytes 4-7: signed 32-bit immediate
export type Reg = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10;

// Classes.
const LDX = 0x01;
const ALU64 = 0x07;
const JMP = 0x05;
const JMP32 = 0x06;
// Source operand.
const K = 0x00;
const X = 0x08;
// Sizes (LDX | MEM).
const MEM = 0x60;
const W = 0x00; // 4 bytes
const H = 0x08; // 2 bytes
const B = 0x10; // 1 byte
// ALU operations.
const ADD = 0x00;
const AND = 0x50;
const MOV = 0xb0;
// JMP operations.
const JA = 0x00;
const JEQ = 0x10;
const JNE = 0x50;
const JGT = 0x20;
const CALL = 0x80;
const EXIT = 0x90;

/** One encoded-to-be instruction; `target` (a label) replaces `off` for jumps. */
export interface Insn {
  readonly op: number;
  readonly dst: Reg;
  readonly src: Reg;
  readonly off: number;
  readonly imm: number;
  readonly target?: string;
}

const I32_MIN = -0x8000_0000;
const U32_MAX = 0xffff_ffff;

/** A 32-bit immediate given signed or unsigned; stored as the signed value the encoding holds. */
function imm32(v: number): number {
  if (!Number.isInteger(v) || v < I32_MIN || v > U32_MAX) throw new Error(`eBPF immediate ${v} does not fit in 32 bits`);
  return v | 0;
}

function off16(v: number): number {
  if (!Number.isInteger(v) || v < -0x8000 || v > 0x7fff) throw new Error(`eBPF offset ${v} does not fit in 16 bits`);
  return v;
}

/** Builds a program; every method appends one instruction and returns the builder. */
export class Asm {
  private readonly insns: Insn[] = [];
  /** Label → index of the instruction that follows it. */
  private readonly labels = new Map<string, number>();

  get length(): number {
    return this.insns.length;
  }

  /** dst = src (64-bit). */
  mov(dst: Reg, src: Reg): this {
    return this.push({ op: ALU64 | MOV | X, dst, src, off: 0, imm: 0 });
  }
  /** dst = imm (sign-extended to 64 bits). */
  movImm(dst: Reg, imm: number): this {
    return this.push({ op: ALU64 | MOV | K, dst, src: 0, off: 0, imm: imm32(imm) });
  }
  /** dst += imm (64-bit). */
  addImm(dst: Reg, imm: number): this {
    return this.push({ op: ALU64 | ADD | K, dst, src: 0, off: 0, imm: imm32(imm) });
  }
  /** dst &= imm (64-bit). */
  andImm(dst: Reg, imm: number): this {
    return this.push({ op: ALU64 | AND | K, dst, src: 0, off: 0, imm: imm32(imm) });
  }
  /** dst = *(u32 *)(src + off), zero-extended. */
  ldxW(dst: Reg, src: Reg, off: number): this {
    return this.push({ op: LDX | MEM | W, dst, src, off: off16(off), imm: 0 });
  }
  /** dst = *(u16 *)(src + off), zero-extended. */
  ldxH(dst: Reg, src: Reg, off: number): this {
    return this.push({ op: LDX | MEM | H, dst, src, off: off16(off), imm: 0 });
  }
  /** dst = *(u8 *)(src + off), zero-extended. */
  ldxB(dst: Reg, src: Reg, off: number): this {
    return this.push({ op: LDX | MEM | B, dst, src, off: off16(off), imm: 0 });
  }
  /** if dst > src (unsigned, 64-bit) goto label. */
  jgt(dst: Reg, src: Reg, label: string): this {
    return this.push({ op: JMP | JGT | X, dst, src, off: 0, imm: 0, target: label });
  }
  /** if (u64)dst > imm (sign-extended, unsigned compare) goto label. */
  jgtImm(dst: Reg, imm: number, label: string): this {
    return this.push({ op: JMP | JGT | K, dst, src: 0, off: 0, imm: imm32(imm), target: label });
  }
  /** if (u64)dst == imm (sign-extended) goto label. */
  jeqImm(dst: Reg, imm: number, label: string): this {
    return this.push({ op: JMP | JEQ | K, dst, src: 0, off: 0, imm: imm32(imm), target: label });
  }
  /** if (u64)dst != imm (sign-extended) goto label. */
  jneImm(dst: Reg, imm: number, label: string): this {
    return this.push({ op: JMP | JNE | K, dst, src: 0, off: 0, imm: imm32(imm), target: label });
  }
  /** if (u32)dst != (u32)imm goto label: compares the low 32 bits only (no sign-extension trap). */
  jne32Imm(dst: Reg, imm: number, label: string): this {
    return this.push({ op: JMP32 | JNE | K, dst, src: 0, off: 0, imm: imm32(imm), target: label });
  }
  /** goto label. */
  ja(label: string): this {
    return this.push({ op: JMP | JA | K, dst: 0, src: 0, off: 0, imm: 0, target: label });
  }
  /** r0 = helper(r1, …, r5); r1-r5 are clobbered. */
  call(helper: number): this {
    return this.push({ op: JMP | CALL | K, dst: 0, src: 0, off: 0, imm: imm32(helper) });
  }
  /** return r0. */
  exit(): this {
    return this.push({ op: JMP | EXIT | K, dst: 0, src: 0, off: 0, imm: 0 });
  }
  /** Names the position of the next instruction. */
  label(name: string): this {
    if (this.labels.has(name)) throw new Error(`eBPF label ${name} defined twice`);
    this.labels.set(name, this.insns.length);
    return this;
  }

  /** The instructions with every jump's offset resolved (labels must exist and lie ahead or behind within 16 bits). */
  resolve(): Insn[] {
    return this.insns.map((insn, i) => {
      if (insn.target === undefined) return insn;
      const at = this.labels.get(insn.target);
      if (at === undefined) throw new Error(`eBPF label ${insn.target} is not defined`);
      if (at >= this.insns.length) throw new Error(`eBPF label ${insn.target} is past the last instruction`);
      return { op: insn.op, dst: insn.dst, src: insn.src, off: off16(at - (i + 1)), imm: insn.imm };
    });
  }

  /** The program as the kernel takes it (BPF_PROG_LOAD's insns). */
  assemble(): Buffer {
    return encode(this.resolve());
  }

  private push(insn: Insn): this {
    this.insns.push(insn);
    return this;
  }
}

/** Encodes resolved instructions, 8 bytes each, little-endian. */
export function encode(insns: readonly Insn[]): Buffer {
  const b = Buffer.alloc(insns.length * 8);
  insns.forEach((x, i) => {
    if (x.target !== undefined) throw new Error(`eBPF jump to ${x.target} is not resolved`);
    b.writeUInt8(x.op, i * 8);
    b.writeUInt8(((x.src & 0xf) << 4) | (x.dst & 0xf), i * 8 + 1);
    b.writeInt16LE(x.off, i * 8 + 2);
    b.writeInt32LE(x.imm, i * 8 + 4);
  });
  return b;
}
