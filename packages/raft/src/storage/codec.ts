// The WAL record codec: compact little-endian binary, written with Buffer
// methods (no JSON, no protobuf) because the hot path encodes every entry.
//
// Frame (all integers little-endian):
//
//   [length u32][crc32 u32][type u8][payload ...]
//    `length` counts the bytes after the crc field (type + payload), so a
//    record occupies FRAME_HEADER_BYTES + length bytes. length 0 never occurs
//    in a written record: it marks the zero-filled (preallocated) tail.
//    `crc32` is CRC-32/IEEE (zlib's, native in Node >= 20.15) over type+payload.
//
// Payloads (u64 = two u32 halves, low first; JS numbers up to 2^53-1):
//   SEGMENT_HEADER  magic u32 'TSWL', version u8, seq u64, firstIndex u64
//   ENTRY           kind u8 (0 normal, 1 confChange), term u64, index u64, data
//   HARD_STATE      term u64, commit u64, vote (utf-8, rest of payload)
//   SNAPSHOT_MARKER index u64, term u64
//
// Each entry is its own record so that replay can apply "a later entry at
// index i truncates everything >= i" per entry.

import * as zlib from 'node:zlib';
import type { Entry, HardState } from '../core/types.js';

export const FRAME_HEADER_BYTES = 8;
export const WAL_MAGIC = 0x4c575354; // 'TSWL' read as LE u32
export const WAL_VERSION = 1;

export enum RecordType {
  SegmentHeader = 1,
  Entry = 2,
  HardState = 3,
  SnapshotMarker = 4,
}

const ENTRY_FIXED_BYTES = 1 + 8 + 8;
const HARD_STATE_FIXED_BYTES = 8 + 8;
const MARKER_BYTES = 8 + 8;
const HEADER_BYTES = 4 + 1 + 8 + 8;
const TWO_32 = 0x1_0000_0000;

/** The snapshot a marker record points at. */
export interface SnapshotRef {
  index: number;
  term: number;
}

export interface SegmentHeader {
  seq: number;
  firstIndex: number;
}

export type WalRecord =
  | { type: RecordType.SegmentHeader; header: SegmentHeader }
  | { type: RecordType.Entry; entry: Entry }
  | { type: RecordType.HardState; hardState: HardState }
  | { type: RecordType.SnapshotMarker; snapshot: SnapshotRef };

/** Frame lengths (type byte + payload) by record type, for the reader's sanity checks. */
export const RECORD_LENGTH = {
  segmentHeader: 1 + HEADER_BYTES,
  snapshotMarker: 1 + MARKER_BYTES,
  hardStateMin: 1 + HARD_STATE_FIXED_BYTES,
  entryMin: 1 + ENTRY_FIXED_BYTES,
} as const;

export const crc32: (data: Uint8Array, value?: number) => number =
  typeof zlib.crc32 === 'function' ? zlib.crc32 : crc32Portable;

/** Everything one save() writes, as one buffer: one write() call per batch. */
export function encodeBatch(hardState: HardState | undefined, entries: readonly Entry[]): Buffer {
  let size = 0;
  let vote: Buffer | undefined;
  for (const e of entries) size += FRAME_HEADER_BYTES + 1 + ENTRY_FIXED_BYTES + e.data.length;
  if (hardState) {
    vote = Buffer.from(hardState.vote, 'utf8');
    size += FRAME_HEADER_BYTES + 1 + HARD_STATE_FIXED_BYTES + vote.length;
  }
  const buf = Buffer.allocUnsafe(size);
  let off = 0;
  // Entries before the hardState: a commit index in the same batch may point
  // at them, and a reader that keeps a prefix of a torn batch then never sees
  // a commit beyond the entries it kept.
  for (const e of entries) off = writeEntry(buf, off, e);
  if (hardState && vote) off = writeHardState(buf, off, hardState, vote);
  return buf;
}

export function encodeMarker(snap: SnapshotRef): Buffer {
  const buf = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 1 + MARKER_BYTES);
  const p = beginRecord(buf, 0, RecordType.SnapshotMarker, MARKER_BYTES);
  writeU64(buf, p, snap.index);
  writeU64(buf, p + 8, snap.term);
  sealRecord(buf, 0, MARKER_BYTES);
  return buf;
}

/**
 * The records that open every segment: its header, then the hardState and
 * newest snapshot marker as of the cut, so that releasing older segments
 * never loses either.
 */
export function encodeSegmentStart(header: SegmentHeader, hardState?: HardState, marker?: SnapshotRef): Buffer {
  const head = Buffer.allocUnsafe(FRAME_HEADER_BYTES + 1 + HEADER_BYTES);
  const p = beginRecord(head, 0, RecordType.SegmentHeader, HEADER_BYTES);
  head.writeUInt32LE(WAL_MAGIC, p);
  head.writeUInt8(WAL_VERSION, p + 4);
  writeU64(head, p + 5, header.seq);
  writeU64(head, p + 13, header.firstIndex);
  sealRecord(head, 0, HEADER_BYTES);
  const parts: Buffer[] = [head];
  if (hardState) parts.push(encodeBatch(hardState, []));
  if (marker) parts.push(encodeMarker(marker));
  return parts.length === 1 ? head : Buffer.concat(parts);
}

/**
 * Decodes the payload of a record whose frame and crc were already checked.
 * Returns a string describing the problem for a malformed payload.
 */
export function decodePayload(type: number, buf: Buffer, start: number, end: number): WalRecord | string {
  const len = end - start;
  switch (type) {
    case RecordType.Entry: {
      if (len < ENTRY_FIXED_BYTES) return 'entry record too short';
      const kind = buf[start];
      if (kind !== 0 && kind !== 1) return `unknown entry kind ${kind}`;
      return {
        type,
        entry: {
          type: kind === 0 ? 'normal' : 'confChange',
          term: readU64(buf, start + 1),
          index: readU64(buf, start + 9),
          // A copy: entries outlive the segment buffer they were read from.
          data: copyBytes(buf, start + ENTRY_FIXED_BYTES, end),
        },
      };
    }
    case RecordType.HardState:
      if (len < HARD_STATE_FIXED_BYTES) return 'hardState record too short';
      return {
        type,
        hardState: {
          term: readU64(buf, start),
          commit: readU64(buf, start + 8),
          vote: buf.toString('utf8', start + 16, end),
        },
      };
    case RecordType.SnapshotMarker:
      if (len !== MARKER_BYTES) return 'snapshot marker record has the wrong size';
      return { type, snapshot: { index: readU64(buf, start), term: readU64(buf, start + 8) } };
    case RecordType.SegmentHeader: {
      if (len !== HEADER_BYTES) return 'segment header has the wrong size';
      if (buf.readUInt32LE(start) !== WAL_MAGIC) return 'segment header has a bad magic number';
      const version = buf[start + 4];
      if (version !== WAL_VERSION) {
        return `segment format version ${version} is not supported (this build reads version ${WAL_VERSION})`;
      }
      return { type, header: { seq: readU64(buf, start + 5), firstIndex: readU64(buf, start + 13) } };
    }
    default:
      return `unknown record type ${type}`;
  }
}

export function isKnownRecordType(type: number): boolean {
  return type >= RecordType.SegmentHeader && type <= RecordType.SnapshotMarker;
}

function writeEntry(buf: Buffer, off: number, e: Entry): number {
  const payload = ENTRY_FIXED_BYTES + e.data.length;
  const p = beginRecord(buf, off, RecordType.Entry, payload);
  buf[p] = e.type === 'normal' ? 0 : 1;
  writeU64(buf, p + 1, e.term);
  writeU64(buf, p + 9, e.index);
  buf.set(e.data, p + ENTRY_FIXED_BYTES);
  sealRecord(buf, off, payload);
  return p + payload;
}

function writeHardState(buf: Buffer, off: number, hs: HardState, vote: Buffer): number {
  const payload = HARD_STATE_FIXED_BYTES + vote.length;
  const p = beginRecord(buf, off, RecordType.HardState, payload);
  writeU64(buf, p, hs.term);
  writeU64(buf, p + 8, hs.commit);
  vote.copy(buf, p + 16);
  sealRecord(buf, off, payload);
  return p + payload;
}

/** Writes length and type; returns where the payload starts. */
function beginRecord(buf: Buffer, off: number, type: RecordType, payloadBytes: number): number {
  buf.writeUInt32LE(payloadBytes + 1, off);
  buf[off + FRAME_HEADER_BYTES] = type;
  return off + FRAME_HEADER_BYTES + 1;
}

function sealRecord(buf: Buffer, off: number, payloadBytes: number): void {
  const body = buf.subarray(off + FRAME_HEADER_BYTES, off + FRAME_HEADER_BYTES + 1 + payloadBytes);
  buf.writeUInt32LE(crc32(body), off + 4);
}

/** A plain Uint8Array copy of buf[start, end) (Buffer's slice would return a Buffer sharing memory). */
export function copyBytes(buf: Buffer, start: number, end: number): Uint8Array {
  const out = new Uint8Array(end - start);
  out.set(buf.subarray(start, end));
  return out;
}

export function writeU64(buf: Buffer, off: number, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`wal: ${n} is not a non-negative safe integer`);
  buf.writeUInt32LE(n % TWO_32, off);
  buf.writeUInt32LE(Math.floor(n / TWO_32), off + 4);
}

export function readU64(buf: Buffer, off: number): number {
  return buf.readUInt32LE(off) + buf.readUInt32LE(off + 4) * TWO_32;
}

// Table-driven CRC-32/IEEE for Node builds older than 20.15 (no zlib.crc32).
let table: Uint32Array | undefined;
function crc32Portable(data: Uint8Array, value = 0): number {
  if (!table) {
    table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
  }
  let c = ~value >>> 0;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}
