import * as assert from 'node:assert/strict';
import { retryOnConflict, VersionConflictError } from '../src/index.js';

describe('retryOnConflict', () => {
  const conflict = () => new VersionConflictError('nodes', 'n1', 3, 4);

  it('re-runs a write whose read was stale, and stops at the first success', async () => {
    let calls = 0;
    const seen: number[] = [];
    const r = await retryOnConflict(5, async () => {
      if (++calls < 3) throw conflict();
      return 'ok';
    }, { onRetry: (_e, attempt) => seen.push(attempt) });
    assert.deepEqual([r, calls, seen], ['ok', 3, [1, 2]]);
  });

  it('throws the last conflict after the attempts, other errors at once, and refused conflicts at once', async () => {
    let calls = 0;
    await assert.rejects(retryOnConflict(2, async () => { calls++; throw conflict(); }), VersionConflictError);
    assert.equal(calls, 2);
    calls = 0;
    await assert.rejects(retryOnConflict(5, async () => { calls++; throw new Error('boom'); }), /boom/);
    assert.equal(calls, 1);
    calls = 0;
    await assert.rejects(retryOnConflict(5, async () => { calls++; throw conflict(); }, { retryable: () => false }), VersionConflictError);
    assert.equal(calls, 1);
  });
});
