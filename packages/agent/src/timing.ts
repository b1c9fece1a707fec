// The agent's timing rules as pure functions of an attempt count and an injected random
// number, so tests can pin them and every constant carries its reason.
import type { Rng } from './clock.js';

/**
 * First delay before reconnecting after a session failed. Short: the next attempt goes to
 * another manager, which is usually up, and the node is marked down after only a few
 * missed heartbeats.
 */
export const RECONNECT_BACKOFF_INITIAL_MS = 100;

/**
 * Upper bound of the reconnect delay. Doubling stops here so a node finds a recovered cluster
 * within seconds, while hundreds of agents retrying a cluster without quorum still send only
 * a few requests per second between them.
 */
export const RECONNECT_BACKOFF_MAX_MS = 8_000;

/**
 * A manager that has not opened the session within this is treated as down. Opening is one
 * store read on the manager; 5 s covers a busy leader without stalling failover for long.
 */
export const SESSION_OPEN_TIMEOUT_MS = 5_000;

/**
 * Heartbeats go out at a random point in [MIN, MAX) of the period the manager gave ("the next
 * heartbeat is due within this"): never late, with MAX leaving 20 % of the period for the
 * round trip, and spread so agents that connected together do not heartbeat together.
 */
export const HEARTBEAT_SEND_MIN_FRACTION = 0.5;
export const HEARTBEAT_SEND_MAX_FRACTION = 0.8;

/** Used until the manager's first SessionMessage says otherwise (Swarm's default). */
export const DEFAULT_HEARTBEAT_PERIOD_MS = 5_000;

export interface BackoffPolicy {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = {
  initialMs: RECONNECT_BACKOFF_INITIAL_MS,
  maxMs: RECONNECT_BACKOFF_MAX_MS,
};

/**
 * The delay before reconnect attempt `attempt` (0 for the first after a working session):
 * exponential, capped, with "equal jitter" (half fixed, half random) so agents that lost the
 * same manager do not all hit the next one at the same instant.
 */
export function reconnectDelayMs(attempt: number, rng: Rng, policy: BackoffPolicy = DEFAULT_BACKOFF): number {
  const ceiling = Math.min(policy.maxMs, policy.initialMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + (ceiling / 2) * rng());
}

/** When to send the next heartbeat, given the period the manager asked for. */
export function heartbeatDelayMs(periodMs: number, rng: Rng): number {
  const p = periodMs > 0 ? periodMs : DEFAULT_HEARTBEAT_PERIOD_MS;
  const spread = HEARTBEAT_SEND_MAX_FRACTION - HEARTBEAT_SEND_MIN_FRACTION;
  return Math.round(p * (HEARTBEAT_SEND_MIN_FRACTION + spread * rng()));
}
