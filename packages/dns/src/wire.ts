// DNS wire format at the edges of the resolver: reading a query (dns-packet decodes and
// validates it) and writing our own answers. Our answers always have one shape — header, the
// question as asked, N records for that name, maybe an OPT record — so they are written by hand
// into one buffer: cheaper than building dns-packet objects per query, and the case of the
// question is echoed exactly as sent (RFC 1035 §4.1.2; DNS 0x20 clients check it).
import * as dnsPacket from 'dns-packet';
import { RCODE, type Question, type Rcode } from './answer.js';
import type { AnswerRecord } from './name-table.js';

/** A UDP response without EDNS may not exceed this (RFC 1035 §4.2.1); longer ones are truncated. */
export const UDP_PLAIN_MAX_BYTES = 512;
/**
 * Our EDNS UDP payload size, advertised in our OPT record and the most we send over UDP: the
 * DNS Flag Day 2020 value, which avoids IP fragmentation on any common path.
 */
export const EDNS_UDP_MAX_BYTES = 1232;
export const TCP_MAX_BYTES = 65535;

const HEADER_BYTES = 12;
const OPT_BYTES = 11;
const FLAG_QR = 0x8000;
const FLAG_AA = 0x0400;
const FLAG_TC = 0x0200;
const FLAG_RD = 0x0100;
const FLAG_RA = 0x0080;
const OPCODE_MASK = 0x7800;
const TYPE_CODE = { A: 1, PTR: 12 } as const;
const CLASS_IN = 1;
const TYPE_OPT = 41;

export interface ParsedQuery {
  readonly id: number;
  /** The query's 16-bit flags word. */
  readonly flags: number;
  readonly question: Question;
  /** The question section exactly as sent (name, type, class). */
  readonly questionBytes: Buffer;
  /** The UDP payload size the client advertised in EDNS (RFC 6891 §6.2.3); undefined: no EDNS. */
  readonly ednsUdpBytes: number | undefined;
}

export type ParseResult =
  | { readonly kind: 'query'; readonly query: ParsedQuery }
  /** Well-formed but not something we serve: answer with this (FORMERR, NOTIMP). */
  | { readonly kind: 'reject'; readonly reply: Buffer }
  /** Not a DNS query at all (undecodable, or a response): drop it / close the connection. */
  | { readonly kind: 'malformed'; readonly reason: string };

export function parseQuery(buf: Buffer): ParseResult {
  let packet: dnsPacket.DecodedPacket;
  try {
    packet = dnsPacket.decode(buf);
  } catch (err) {
    return { kind: 'malformed', reason: err instanceof Error ? err.message : String(err) };
  }
  const id = buf.readUInt16BE(0);
  const flags = buf.readUInt16BE(2);
  if (flags & FLAG_QR) return { kind: 'malformed', reason: 'a response, not a query' };
  if ((flags & OPCODE_MASK) !== 0) return { kind: 'reject', reply: headerOnly(id, flags, RCODE.NOTIMP) };
  const questions = packet.questions ?? [];
  if (questions.length !== 1) return { kind: 'reject', reply: headerOnly(id, flags, RCODE.FORMERR) };
  const q = questions[0]!;
  const end = questionEnd(buf);
  if (end === undefined) return { kind: 'reject', reply: headerOnly(id, flags, RCODE.FORMERR) };
  let ednsUdpBytes: number | undefined;
  for (const rr of packet.additionals ?? []) {
    if (rr.type === 'OPT') ednsUdpBytes = rr.udpPayloadSize;
  }
  return {
    kind: 'query',
    query: {
      id,
      flags,
      question: { name: q.name, type: q.type, class: q.class ?? 'IN' },
      questionBytes: buf.subarray(HEADER_BYTES, end),
      ednsUdpBytes,
    },
  };
}

/** Largest response we may send this client over UDP. */
export function udpLimitBytes(q: ParsedQuery): number {
  if (q.ednsUdpBytes === undefined) return UDP_PLAIN_MAX_BYTES;
  return Math.max(UDP_PLAIN_MAX_BYTES, Math.min(q.ednsUdpBytes, EDNS_UDP_MAX_BYTES));
}

export interface Encoded {
  readonly bytes: Buffer;
  /** Not every answer fitted `maxBytes`: TC is set (RFC 2181 §9); the client retries over TCP. */
  readonly truncated: boolean;
}

/**
 * Our response to `q`: the question echoed, `answers` as records of the question's name (a
 * compression pointer to it), TTL `ttlS`, and an OPT record when the query had one. AA is set
 * for swarm answers (we own those names), RA always (we recurse by forwarding). Records that do
 * not fit `maxBytes` are left out and TC is set.
 */
export function encodeResponse(
  q: ParsedQuery,
  rcode: Rcode,
  answers: readonly AnswerRecord[],
  ttlS: number,
  maxBytes: number,
  authoritative: boolean,
): Encoded {
  const edns = q.ednsUdpBytes !== undefined;
  const fixed = HEADER_BYTES + q.questionBytes.length + (edns ? OPT_BYTES : 0);
  let size = fixed;
  let count = 0;
  for (const rr of answers) {
    const rrBytes = 12 + rr.rdata.length; // pointer 2, type 2, class 2, ttl 4, rdlength 2
    if (size + rrBytes > maxBytes) break;
    size += rrBytes;
    count++;
  }
  const truncated = count < answers.length;
  const buf = Buffer.allocUnsafe(size);
  buf.writeUInt16BE(q.id, 0);
  buf.writeUInt16BE(
    FLAG_QR | (q.flags & FLAG_RD) | FLAG_RA | (authoritative ? FLAG_AA : 0) | (truncated ? FLAG_TC : 0) | rcode,
    2,
  );
  buf.writeUInt16BE(1, 4);
  buf.writeUInt16BE(count, 6);
  buf.writeUInt16BE(0, 8);
  buf.writeUInt16BE(edns ? 1 : 0, 10);
  let o = HEADER_BYTES + q.questionBytes.copy(buf, HEADER_BYTES);
  for (let i = 0; i < count; i++) {
    const rr = answers[i]!;
    buf.writeUInt16BE(0xc000 | HEADER_BYTES, o); // the question's name (RFC 1035 §4.1.4)
    buf.writeUInt16BE(TYPE_CODE[rr.type], o + 2);
    buf.writeUInt16BE(CLASS_IN, o + 4);
    buf.writeUInt32BE(ttlS, o + 6);
    buf.writeUInt16BE(rr.rdata.length, o + 10);
    o += 12 + rr.rdata.copy(buf, o + 12);
  }
  if (edns) {
    buf[o] = 0; // root name
    buf.writeUInt16BE(TYPE_OPT, o + 1);
    buf.writeUInt16BE(EDNS_UDP_MAX_BYTES, o + 3);
    buf.writeUInt32BE(0, o + 5); // extended rcode, version 0, no DO
    buf.writeUInt16BE(0, o + 9);
  }
  return { bytes: buf, truncated };
}

/** True when a (forwarded) response has TC set. */
export function isTruncated(response: Buffer): boolean {
  return response.length >= 4 && (response.readUInt16BE(2) & FLAG_TC) !== 0;
}

/** True when `response` is a response (QR) with the given ID. */
export function isResponseTo(response: Buffer, id: number): boolean {
  return response.length >= HEADER_BYTES && response.readUInt16BE(0) === id && (response.readUInt16BE(2) & FLAG_QR) !== 0;
}

function headerOnly(id: number, queryFlags: number, rcode: Rcode): Buffer {
  const buf = Buffer.alloc(HEADER_BYTES);
  buf.writeUInt16BE(id, 0);
  buf.writeUInt16BE(FLAG_QR | (queryFlags & (OPCODE_MASK | FLAG_RD)) | FLAG_RA | rcode, 2);
  return buf;
}

/** Offset just past the first question (name, type, class), or undefined if it overruns. */
function questionEnd(buf: Buffer): number | undefined {
  let o = HEADER_BYTES;
  for (;;) {
    if (o >= buf.length) return undefined;
    const len = buf[o]!;
    if (len === 0) { o += 1; break; }
    if ((len & 0xc0) !== 0) return undefined; // a pointer in the first question cannot point back
    o += 1 + len;
  }
  o += 4;
  return o <= buf.length ? o : undefined;
}
