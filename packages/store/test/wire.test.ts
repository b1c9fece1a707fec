import { strict as assert } from 'node:assert';
import { BinaryWriter } from '@tswarm/api';
import { uintFieldBytes, WireWriter } from '../src/wire.js';

describe('store: protobuf wire by hand', () => {
  it('writes uint64 fields as the generated writer does, up to 2^53 - 1, and leaves out zero', () => {
    for (const n of [0, 1, 127, 128, 300, 2 ** 31 - 1, 2 ** 31, 2 ** 32, 2 ** 35 + 7, Number.MAX_SAFE_INTEGER]) {
      const expected = n === 0 ? new Uint8Array() : new BinaryWriter().uint32(16).uint64(n).finish();
      const out = new Uint8Array(uintFieldBytes(n));
      const w = new WireWriter(out);
      w.uint(2, n);
      assert.equal(w.written, out.length, `size of ${n}`);
      assert.deepEqual(Buffer.from(out), Buffer.from(expected), `bytes of ${n}`);
    }
  });
});
