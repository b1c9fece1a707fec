import { strict as assert } from 'node:assert';
import { DebugKV, encodeMessage, RaftStatusResponse } from '../src/index.js';

describe('encodeMessage (one reused protobuf writer)', () => {
  const kv = (id: string, n: number): DebugKV => ({ id, value: Buffer.alloc(n, id.charCodeAt(0)) });
  const decoded = (bytes: Uint8Array): DebugKV => {
    const m = DebugKV.decode(bytes);
    return { id: m.id, value: Buffer.from(m.value) };
  };

  it('gives the same bytes as a fresh writer, in a copy that later encodes do not touch', () => {
    const first = encodeMessage(DebugKV, kv('a', 600));
    assert.deepEqual(Buffer.from(first), Buffer.from(DebugKV.encode(kv('a', 600)).finish()));
    const kept = Buffer.from(first);
    const second = encodeMessage(DebugKV, kv('b', 600));
    assert.deepEqual(Buffer.from(first), kept, 'the first result changed when the writer was reused');
    assert.notEqual(first.buffer, second.buffer);
    assert.deepEqual(decoded(second), kv('b', 600));
  });

  it('encodes correctly after an encoder threw halfway through a message', () => {
    const bad = { id: 'm1', state: 'leader', leader: 'm1', term: 'not a number', commit: 0, applied: 0, members: [] } as unknown as RaftStatusResponse;
    assert.throws(() => encodeMessage(RaftStatusResponse, bad));
    const ok: RaftStatusResponse = { id: 'm1', state: 'leader', leader: 'm1', term: 3, commit: 9, applied: 9, members: [{ id: 'm2', address: 'h:1', voter: true }] };
    assert.deepEqual(RaftStatusResponse.decode(encodeMessage(RaftStatusResponse, ok)), ok);
  });

  it('encodes small messages correctly after a large one', () => {
    assert.equal(DebugKV.decode(encodeMessage(DebugKV, kv('L', 1 << 20))).value.length, 1 << 20);
    assert.deepEqual(decoded(encodeMessage(DebugKV, kv('s', 3))), kv('s', 3));
  });
});
