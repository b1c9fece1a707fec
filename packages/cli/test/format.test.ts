import { strict as assert } from 'node:assert';
import { humanBytes } from '../src/format.js';

describe('sizes as Docker prints them', () => {
  it('go-units BytesSize: 1024-based with four significant digits ("%.4g")', () => {
    assert.deepEqual(
      [0, 512, 1024, 1536, 8_272_000_000, 25_276_510_208, 130 * 1024 ** 3 + 512 * 1024 ** 2].map(humanBytes),
      ['0B', '512B', '1KiB', '1.5KiB', '7.704GiB', '23.54GiB', '130.5GiB'],
    );
  });
});
