/**
 * Every proposal the node loop makes is wrapped so that, when the entry is applied on
 * the proposing node, the loop can find the promise waiting for it — whether the
 * proposal was appended locally (leader) or forwarded (follower), and at whatever index.
 *
 * Layout: [0x01][8-byte proposer tag][8-byte sequence][payload]. Entries that do not
 * start with the marker (the leader's empty no-op, conf changes) carry no proposal.
 */
const MARKER = 0x01;
export const ENVELOPE_HEADER_BYTES = 17;

export interface ProposalId {
  tag: bigint;
  seq: bigint;
}

export function wrap(id: ProposalId, payload: Uint8Array): Uint8Array {
  const out = Buffer.allocUnsafe(ENVELOPE_HEADER_BYTES + payload.length);
  out[0] = MARKER;
  out.writeBigUInt64BE(id.tag, 1);
  out.writeBigUInt64BE(id.seq, 9);
  out.set(payload, ENVELOPE_HEADER_BYTES);
  return out;
}

/** Splits an applied entry's data; undefined when it is not an enveloped proposal. */
export function unwrap(data: Uint8Array): { id: ProposalId; payload: Uint8Array } | undefined {
  if (data.length < ENVELOPE_HEADER_BYTES || data[0] !== MARKER) return undefined;
  const b = Buffer.from(data.buffer, data.byteOffset, data.length);
  return { id: { tag: b.readBigUInt64BE(1), seq: b.readBigUInt64BE(9) }, payload: data.subarray(ENVELOPE_HEADER_BYTES) };
}
