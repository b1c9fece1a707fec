import type { Clock, TimerHandle } from '../src/index.js';

/** A clock that moves only when the test says so. */
export class ManualClock implements Clock {
  private t = 1_000_000;
  private timers: Array<{ at: number; fn: () => void; live: boolean }> = [];

  now(): number { return this.t; }

  after(ms: number, fn: () => void): TimerHandle {
    const timer = { at: this.t + ms, fn, live: true };
    this.timers.push(timer);
    return { cancel: () => { timer.live = false; } };
  }

  /** Moves time forward, firing due timers in order (and letting promises settle between). */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await flushPromises();
      const due = this.timers.filter((x) => x.live && x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.t = due.at;
      due.live = false;
      due.fn();
    }
    this.timers = this.timers.filter((x) => x.live);
    this.t = end;
    await flushPromises();
  }
}

export async function flushPromises(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
}
