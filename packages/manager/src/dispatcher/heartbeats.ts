// Heartbeat deadlines, as a pure structure: the dispatcher feeds it the time and asks
// which nodes expired. No timer per node per heartbeat (swarmkit re-arms one Go timer per
// node on every heartbeat): one periodic sweep for the whole dispatcher, see
// SWEEPS_PER_PERIOD, so 10 000 nodes heartbeating cost a map write each, not 10 000 timers.

/**
 * The sweep runs this many times per heartbeat period. A node is therefore declared DOWN
 * at most period/4 after its deadline (1.25 s with the 5 s default, small against the
 * 15 s window), and a sweep over all nodes every 1.25 s is a trivial cost.
 */
export const SWEEPS_PER_PERIOD = 4;

/**
 * Heartbeat jitter: each HeartbeatResponse asks for the next beat within
 * period × (1 − HEARTBEAT_JITTER × r), r uniform in [0, 1). Jitter only shortens the
 * period, never lengthens it, so "misses × period" really means that many missed beats;
 * 20% spreads agents that (re)connected together (a new leader, a rebooted rack) over a
 * fifth of a period, like swarmkit's ±500 ms epsilon on 5 s.
 */
export const HEARTBEAT_JITTER = 0.2;

/** The period handed to an agent for its next heartbeat. */
export function jitteredPeriodMs(periodMs: number, rng: () => number): number {
  return Math.max(1, Math.round(periodMs * (1 - HEARTBEAT_JITTER * rng())));
}

/** How often the dispatcher sweeps for expired nodes. */
export function sweepIntervalMs(periodMs: number): number {
  return Math.max(1, Math.floor(periodMs / SWEEPS_PER_PERIOD));
}

/**
 * nodeId → deadline (ms). A node is tracked while the dispatcher believes it is up: from
 * its session (or the dispatcher's start, for nodes the store says are up) until it is
 * declared DOWN or removed. Invariant: every tracked deadline is a finite number.
 */
export class HeartbeatTracker {
  private readonly deadlines = new Map<string, number>();

  /** `windowMs` = heartbeatPeriodMs × heartbeatMisses; changes apply from the next refresh. */
  constructor(private windowMs: number) {}

  setWindow(windowMs: number): void {
    this.windowMs = windowMs;
  }

  get size(): number {
    return this.deadlines.size;
  }

  /** The node heartbeated (or connected, or got a grace period) at `nowMs`. */
  refresh(nodeId: string, nowMs: number): void {
    this.deadlines.set(nodeId, nowMs + this.windowMs);
  }

  clear(): void {
    this.deadlines.clear();
  }

  forget(nodeId: string): void {
    this.deadlines.delete(nodeId);
  }

  has(nodeId: string): boolean {
    return this.deadlines.has(nodeId);
  }

  deadlineOf(nodeId: string): number | undefined {
    return this.deadlines.get(nodeId);
  }

  /** Removes and returns every node whose deadline is at or before `nowMs`. */
  expire(nowMs: number): string[] {
    const out: string[] = [];
    for (const [id, deadline] of this.deadlines) {
      if (deadline <= nowMs) out.push(id);
    }
    for (const id of out) this.deadlines.delete(id);
    return out;
  }
}
