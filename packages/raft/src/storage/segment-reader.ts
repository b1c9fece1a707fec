// Reads the records of one WAL segment and decides what a bad record means.
//
// A bad record (short frame, length past the end, checksum mismatch) at
// offset o is either:
//   - a torn write: the tail of a write that had not been synced when the
//     machine went down. Only possible in the LAST segment (earlier ones were
//     synced and trimmed when the next was cut). Recognised when no valid
//     record follows o, or when the bytes between o and the next valid
//     record include a whole zero sector (an unsynced page that never reached
//     the disk while a later one did — the same test as etcd's isTornEntry).
//     Nothing after o was ever acknowledged as durable (a sync covers every
//     byte before it), so truncating at o is safe.
//   - corruption: anything else, e.g. a flipped bit with intact records
//     after it. Refused with WalCorruptionError: this node may have
//     acknowledged the damaged data, and forgetting it could break Raft.

import { FRAME_HEADER_BYTES, RECORD_LENGTH, RecordType, crc32, decodePayload, isKnownRecordType, type WalRecord } from './codec.js';
import { WalCorruptionError } from './raft-storage.js';

/** Smallest unit a disk writes atomically; a torn write loses whole sectors. */
const SECTOR_BYTES = 512;

export interface SegmentReadResult {
  records: WalRecord[];
  /** Offset just past the last good record: where appends continue. */
  validEnd: number;
  /** Set when a torn tail was found at validEnd (and must be truncated). */
  torn?: string;
}

/**
 * @param label the file name used in errors
 * @param isLast whether this is the newest segment (the only one that may be torn)
 */
export function readSegment(buf: Buffer, label: string, isLast: boolean): SegmentReadResult {
  const records: WalRecord[] = [];
  let off = 0;
  for (;;) {
    const r = parseAt(buf, off);
    if (r.kind === 'ok') {
      records.push(r.record);
      off = r.next;
      continue;
    }
    if (r.kind === 'end') return { records, validEnd: off };
    if (r.kind === 'malformed') {
      // The checksum matched, so these are the bytes we wrote: a format
      // problem (another version, a bug), never a torn write.
      throw new WalCorruptionError(label, off, r.reason);
    }
    if (!isLast) throw new WalCorruptionError(label, off, r.reason);
    const next = findNextValidRecord(buf, off);
    if (next < 0 || hasZeroSector(buf, off, next)) return { records, validEnd: off, torn: r.reason };
    throw new WalCorruptionError(label, off, `${r.reason} (a valid record follows at offset ${next})`);
  }
}

type Parsed =
  | { kind: 'ok'; record: WalRecord; next: number }
  | { kind: 'end' }
  | { kind: 'bad'; reason: string }
  | { kind: 'malformed'; reason: string };

function parseAt(buf: Buffer, off: number): Parsed {
  const remaining = buf.length - off;
  if (remaining === 0) return { kind: 'end' };
  if (remaining < 4) return isZero(buf, off, buf.length) ? { kind: 'end' } : { kind: 'bad', reason: 'short record header' };
  const length = buf.readUInt32LE(off);
  if (length === 0) {
    // Zero length marks the preallocated, never-written tail, if all of it is zero.
    return isZero(buf, off, buf.length) ? { kind: 'end' } : { kind: 'bad', reason: 'zero record length' };
  }
  if (remaining < FRAME_HEADER_BYTES) return { kind: 'bad', reason: 'short record header' };
  const end = off + FRAME_HEADER_BYTES + length;
  if (end > buf.length) return { kind: 'bad', reason: `record of ${length} bytes runs past the end of the file` };
  const stored = buf.readUInt32LE(off + 4);
  if (crc32(buf.subarray(off + FRAME_HEADER_BYTES, end)) !== stored) return { kind: 'bad', reason: 'checksum mismatch' };
  const decoded = decodePayload(buf[off + FRAME_HEADER_BYTES], buf, off + FRAME_HEADER_BYTES + 1, end);
  if (typeof decoded === 'string') return { kind: 'malformed', reason: decoded };
  return { kind: 'ok', record: decoded, next: end };
}

/**
 * The first offset > bad holding a record with a valid checksum, or -1.
 * Tries where the bad record's own length says the next one starts, then
 * every byte up to the last non-zero one. Candidates must look like a record
 * of their type before their checksum is computed: a stray "length" in entry
 * data could otherwise send each try through megabytes of CRC.
 */
function findNextValidRecord(buf: Buffer, bad: number): number {
  if (bad + FRAME_HEADER_BYTES <= buf.length) {
    const next = bad + FRAME_HEADER_BYTES + buf.readUInt32LE(bad);
    if (next > bad + FRAME_HEADER_BYTES && isValidRecordAt(buf, next)) return next;
  }
  const last = lastNonZero(buf);
  for (let p = bad + 1; p + FRAME_HEADER_BYTES < buf.length && p <= last; p++) {
    if (isValidRecordAt(buf, p)) return p;
  }
  return -1;
}

/** Longest HardState payload considered when scanning (vote is a node ID). */
const MAX_SCANNED_HARD_STATE_BYTES = 1024;

function isValidRecordAt(buf: Buffer, p: number): boolean {
  if (p + FRAME_HEADER_BYTES + 1 > buf.length) return false;
  const length = buf.readUInt32LE(p);
  if (length === 0 || p + FRAME_HEADER_BYTES + length > buf.length) return false;
  const type = buf[p + FRAME_HEADER_BYTES];
  if (!isKnownRecordType(type) || length !== plausibleLength(type, length, buf, p)) return false;
  return crc32(buf.subarray(p + FRAME_HEADER_BYTES, p + FRAME_HEADER_BYTES + length)) === buf.readUInt32LE(p + 4);
}

/** length if a record of this type could have it, else -1. */
function plausibleLength(type: number, length: number, buf: Buffer, p: number): number {
  switch (type) {
    case RecordType.SegmentHeader:
      return length === RECORD_LENGTH.segmentHeader ? length : -1;
    case RecordType.SnapshotMarker:
      return length === RECORD_LENGTH.snapshotMarker ? length : -1;
    case RecordType.HardState:
      const min = RECORD_LENGTH.hardStateMin;
      return length >= min && length <= min + MAX_SCANNED_HARD_STATE_BYTES ? length : -1;
    default: {
      // An entry: kind byte 0 or 1 after the type.
      const kind = buf[p + FRAME_HEADER_BYTES + 1];
      return length >= RECORD_LENGTH.entryMin && (kind === 0 || kind === 1) ? length : -1;
    }
  }
}

/** Whether [from, to) contains a whole, sector-aligned run of zeros. */
function hasZeroSector(buf: Buffer, from: number, to: number): boolean {
  let s = Math.ceil(from / SECTOR_BYTES) * SECTOR_BYTES;
  for (; s + SECTOR_BYTES <= to; s += SECTOR_BYTES) if (isZero(buf, s, s + SECTOR_BYTES)) return true;
  return false;
}

const ZEROS = Buffer.alloc(64 * 1024);

/** Whether buf[from, to) is all zero; native compares, since the preallocated tail is megabytes. */
function isZero(buf: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i += ZEROS.length) {
    const n = Math.min(ZEROS.length, to - i);
    if (buf.compare(ZEROS, 0, n, i, i + n) !== 0) return false;
  }
  return true;
}

function lastNonZero(buf: Buffer): number {
  let end = buf.length;
  // Skip whole zero chunks natively, then finish byte by byte.
  while (end >= ZEROS.length && isZero(buf, end - ZEROS.length, end)) end -= ZEROS.length;
  let i = end - 1;
  while (i >= 0 && buf[i] === 0) i--;
  return i;
}
