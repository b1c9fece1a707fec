// When a node renews its certificate. Pure: the caller passes the clock and the RNG.

/**
 * Renew no earlier than halfway through the validity: earlier renewals would only add load
 * on the CA, and a key is not less safe at 40% than at 10% of its life.
 */
export const RENEW_AT_MIN_FRACTION = 0.5;

/**
 * Renew no later than 80% through: the remaining 20% (18 days of a 90-day certificate)
 * leaves time to retry through a manager outage before the certificate expires.
 */
export const RENEW_AT_MAX_FRACTION = 0.8;

/**
 * Milliseconds from `now` until the node should renew: a uniformly random point between
 * 50% and 80% of [notBefore, notAfter]. The randomness spreads renewals of nodes that
 * joined together (a cluster built by a script) so they do not all hit the CA at once,
 * as in Swarm. Returns 0 when that point has passed (renew now).
 *
 * `rng` returns a number in [0, 1), like Math.random.
 */
export function renewalDelayMs(notBefore: Date, notAfter: Date, now: Date, rng: () => number): number {
  const start = notBefore.getTime();
  const validityMs = notAfter.getTime() - start;
  if (!(validityMs > 0)) return 0;
  const r = Math.min(Math.max(rng(), 0), 1);
  const fraction = RENEW_AT_MIN_FRACTION + r * (RENEW_AT_MAX_FRACTION - RENEW_AT_MIN_FRACTION);
  return Math.max(0, Math.floor(start + fraction * validityMs - now.getTime()));
}

/** First retry after a failed renewal: soon enough to ride out a leader election. */
export const RENEW_RETRY_INITIAL_MS = 1_000;
/**
 * Retries back off to at most this: a node that cannot reach any manager for minutes
 * still tries several times an hour, and a cluster of them does not hammer a recovering CA.
 */
export const RENEW_RETRY_MAX_MS = 5 * 60_000;

/**
 * Milliseconds before retry number `attempt` (0 = first retry) of a failed renewal:
 * exponential from RENEW_RETRY_INITIAL_MS, capped at RENEW_RETRY_MAX_MS, with "equal
 * jitter" (half fixed, half random) so nodes that failed together do not retry together.
 */
export function renewalRetryDelayMs(attempt: number, rng: () => number): number {
  const ceiling = Math.min(RENEW_RETRY_MAX_MS, RENEW_RETRY_INITIAL_MS * 2 ** Math.min(Math.max(attempt, 0), 30));
  const r = Math.min(Math.max(rng(), 0), 1);
  return Math.floor(ceiling / 2 + r * (ceiling / 2));
}
