// The pacing rule every batcher that talks to the cluster shares: the agent's status reporter,
// and the dispatcher's status batcher, assignment streams and network-view publisher. Pure, so
// it is tested without timers.

/**
 * How long a batcher whose first pending item just arrived waits before flushing: not at all
 * after a quiet period, otherwise until `periodMs` after its last flush. The first change
 * after a pause goes out at once (a task's RUNNING, a new assignment, a view with one more
 * replica: each is what some node waits for), and a burst still costs at most one flush per
 * period, as a fixed window would.
 */
export function flushDelayMs(lastFlushAtMs: number, periodMs: number, nowMs: number): number {
  return Math.max(0, lastFlushAtMs + periodMs - nowMs);
}
