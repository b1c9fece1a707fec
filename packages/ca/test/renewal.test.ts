import { strict as assert } from 'node:assert';
import {
  renewalDelayMs, renewalRetryDelayMs, RENEW_AT_MAX_FRACTION, RENEW_AT_MIN_FRACTION, RENEW_RETRY_INITIAL_MS, RENEW_RETRY_MAX_MS,
} from '../src/index.js';
import { DAY_MS, NOW, seededRng } from './helpers.js';

describe('renewal timing (random point in 50%..80% of validity, as Swarm)', () => {
  const notBefore = NOW;
  const notAfter = new Date(NOW.getTime() + 90 * DAY_MS);

  it('stays within [50%, 80%] of validity over many draws, and uses the whole range', () => {
    const rng = seededRng(42);
    let min = Infinity;
    let max = -Infinity;
    for (let i = 0; i < 10_000; i++) {
      const d = renewalDelayMs(notBefore, notAfter, NOW, rng);
      min = Math.min(min, d);
      max = Math.max(max, d);
    }
    assert.ok(min >= 45 * DAY_MS, `min ${min / DAY_MS} days`);
    assert.ok(max <= 72 * DAY_MS, `max ${max / DAY_MS} days`);
    assert.ok(min < 45.1 * DAY_MS && max > 71.9 * DAY_MS, 'draws cover the range');
    assert.equal(RENEW_AT_MIN_FRACTION, 0.5);
    assert.equal(RENEW_AT_MAX_FRACTION, 0.8);
  });

  it('is measured from now: later clocks give shorter delays, never negative', () => {
    const mid = () => 0.5; // 65% of validity = 58.5 days after notBefore
    assert.equal(renewalDelayMs(notBefore, notAfter, NOW, mid), 58.5 * DAY_MS);
    assert.equal(renewalDelayMs(notBefore, notAfter, new Date(NOW.getTime() + 50 * DAY_MS), mid), 8.5 * DAY_MS);
    assert.equal(renewalDelayMs(notBefore, notAfter, new Date(NOW.getTime() + 80 * DAY_MS), mid), 0);
    assert.equal(renewalDelayMs(notBefore, notAfter, new Date(NOW.getTime() + 200 * DAY_MS), mid), 0);
  });

  it('renews at once for a certificate with an empty or inverted validity window', () => {
    assert.equal(renewalDelayMs(notAfter, notBefore, NOW, () => 0.3), 0);
    assert.equal(renewalDelayMs(NOW, NOW, NOW, () => 0.3), 0);
  });
});

describe('renewal retry backoff', () => {
  it('doubles from 1 s with equal jitter and caps at 5 minutes', () => {
    assert.equal(renewalRetryDelayMs(0, () => 0), RENEW_RETRY_INITIAL_MS / 2);
    assert.equal(renewalRetryDelayMs(0, () => 0.999999), RENEW_RETRY_INITIAL_MS - 1);
    assert.equal(renewalRetryDelayMs(3, () => 0), 4_000);
    assert.equal(renewalRetryDelayMs(50, () => 0.999999), RENEW_RETRY_MAX_MS - 1);
    assert.equal(renewalRetryDelayMs(50, () => 0), RENEW_RETRY_MAX_MS / 2);
  });
});
