// Encoding protobuf messages on the hot paths (store transactions, Raft batches, store rows)
// with one reused writer instead of a fresh one per message.
//
// Why: a fresh BinaryWriter starts with 128 bytes and doubles, so a 1-KB message costs four
// buffer allocations and copies before `finish()` makes the fifth. Outside V8's heap each of
// those is an ArrayBuffer with its own backing store: ≈ 2 µs apiece here for a 600-byte one
// (measured; a pooled Buffer copy is 0.4 µs), several times per write on every member. A
// writer kept between messages has already grown, so only `finish()`'s exact-size copy is
// left — and that copy is the caller's to keep: it shares nothing with the writer.
//
// Safe because encoding is synchronous and the generated encoders never call back into this
// module. A writer an encoder threw out of is half-written, so it is dropped; so is one that
// grew past KEEP_BYTES, so a rare large message (a snapshot chunk) is not held for ever.
import { BinaryWriter } from '@bufbuild/protobuf/wire';

/** For encoders that write a message in parts (the store's snapshot, a slice at a time). */
export { BinaryWriter };

/** A message type as ts-proto generates it. */
export interface EncodableMessage<T> {
  encode(message: T, writer?: BinaryWriter): BinaryWriter;
}

const KEEP_BYTES = 256 << 10;
let shared = new BinaryWriter();

/** `type.encode(message).finish()`, through the shared writer. */
export function encodeMessage<T>(type: EncodableMessage<T>, message: T): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = type.encode(message, shared).finish();
  } catch (err) {
    shared = new BinaryWriter();
    throw err;
  }
  if (bytes.length > KEEP_BYTES) shared = new BinaryWriter();
  return bytes;
}
