// Time and randomness are passed into the agent's components (STYLE.md point 1), so tests can
// drive timers and jitter. systemClock is the one real implementation.

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Calls `fn` once after `ms` milliseconds unless cancelled. */
  after(ms: number, fn: () => void): TimerHandle;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  after(ms, fn) {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  },
};

/** A promise that resolves after `ms` on `clock`, or at once when `signal` aborts. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = () => { timer.cancel(); resolve(); };
    const timer = clock.after(ms, () => { signal?.removeEventListener('abort', onAbort); resolve(); });
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Uniform in [0, 1), like Math.random; injected so jitter is reproducible in tests. */
export type Rng = () => number;
