// Protobuf wire format, by hand, for the one message written that way (the snapshot,
// snapshot.ts): sizes first, then bytes into a buffer allocated once at the final size.
// Fields equal to their default are left out, as the generated encoders leave them out;
// a test holds the two byte-equal. Every field number used is below 16, so a tag is one byte.

const WIRE_VARINT = 0;
const WIRE_LEN = 2;

/** Bytes of `n` (an integer 0 ≤ n < 2^53) as a varint. */
export function varintBytes(n: number): number {
  let bytes = 1;
  for (; n >= 0x80; bytes++) n = Math.floor(n / 0x80);
  return bytes;
}

/** Bytes of a uint64 field holding `n`. */
export function uintFieldBytes(n: number): number {
  return n === 0 ? 0 : 1 + varintBytes(n);
}

/** Bytes of a length-delimited field whose content is `length` bytes (bytes, string). */
export function lenFieldBytes(length: number): number {
  return length === 0 ? 0 : messageFieldBytes(length);
}

/** Bytes of an embedded message field, which a repeated field writes even when empty. */
export function messageFieldBytes(length: number): number {
  return 1 + varintBytes(length) + length;
}

/** Writes fields front to back into a buffer sized beforehand. */
export class WireWriter {
  private pos = 0;
  private readonly buf: Buffer;

  constructor(out: Uint8Array) {
    this.buf = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  }

  get written(): number {
    return this.pos;
  }

  uint(field: number, n: number): void {
    if (n === 0) return;
    this.tag(field, WIRE_VARINT);
    this.varint(n);
  }

  string(field: number, s: string, byteLength: number): void {
    if (byteLength === 0) return;
    this.messageHeader(field, byteLength);
    this.pos += this.buf.write(s, this.pos, byteLength, 'utf8');
  }

  bytes(field: number, b: Uint8Array): void {
    if (b.length === 0) return;
    this.messageHeader(field, b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** The tag and length of an embedded message; its fields follow. */
  messageHeader(field: number, length: number): void {
    this.tag(field, WIRE_LEN);
    this.varint(length);
  }

  private tag(field: number, wireType: number): void {
    this.buf[this.pos++] = (field << 3) | wireType;
  }

  private varint(n: number): void {
    for (; n >= 0x80; n = Math.floor(n / 0x80)) this.buf[this.pos++] = (n % 0x80) | 0x80;
    this.buf[this.pos++] = n;
  }
}
