// Encoding of ConfChange into the data of a 'confChange' log entry.
// Format (stable; it lives in the durable log):
//   byte 0      : version (1)
//   byte 1      : type (0 addNode, 1 addLearner, 2 removeNode)
//   bytes 2..5  : nodeId length L (uint32 big-endian), then L bytes UTF-8 nodeId
//   rest        : context (may be empty)

import type { ConfChange, ConfChangeType, ConfState } from './types.js';

const VERSION = 1;
const TYPES: ConfChangeType[] = ['addNode', 'addLearner', 'removeNode'];
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeConfChange(cc: ConfChange): Uint8Array {
  const id = encoder.encode(cc.nodeId);
  const ctx = cc.context ?? new Uint8Array(0);
  const out = new Uint8Array(6 + id.byteLength + ctx.byteLength);
  out[0] = VERSION;
  out[1] = TYPES.indexOf(cc.type);
  new DataView(out.buffer).setUint32(2, id.byteLength);
  out.set(id, 6);
  out.set(ctx, 6 + id.byteLength);
  return out;
}

export function decodeConfChange(data: Uint8Array): ConfChange {
  if (data.byteLength < 6 || data[0] !== VERSION || data[1] >= TYPES.length) {
    throw new Error('malformed conf change entry');
  }
  const len = new DataView(data.buffer, data.byteOffset, data.byteLength).getUint32(2);
  if (6 + len > data.byteLength) throw new Error('malformed conf change entry: node id overruns');
  const nodeId = decoder.decode(data.subarray(6, 6 + len));
  const rest = data.subarray(6 + len);
  const cc: ConfChange = { type: TYPES[data[1]], nodeId };
  if (rest.byteLength > 0) cc.context = rest.slice();
  return cc;
}

export function confStatesEqual(a: ConfState, b: ConfState): boolean {
  const eq = (x: string[], y: string[]) => {
    if (x.length !== y.length) return false;
    const xs = [...x].sort();
    const ys = [...y].sort();
    return xs.every((v, i) => v === ys[i]);
  };
  return eq(a.voters, b.voters) && eq(a.learners, b.learners);
}
