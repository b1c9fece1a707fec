// The simulator's virtual clock: a min-heap of events ordered by (time, seq).
// seq breaks ties in insertion order, so two events at the same virtual
// millisecond always run in the same order for a given seed.

export interface SimEvent {
  timeMs: number;
  seq: number;
  run: () => void;
}

export class EventQueue {
  private heap: SimEvent[] = [];
  private seq = 0;
  /** Virtual time of the event being run (or last run). Only moves forward. */
  nowMs = 0;

  get size(): number {
    return this.heap.length;
  }

  at(timeMs: number, run: () => void): void {
    if (timeMs < this.nowMs) throw new Error(`event scheduled in the past: ${timeMs} < ${this.nowMs}`);
    this.push({ timeMs, seq: this.seq++, run });
  }

  after(delayMs: number, run: () => void): void {
    this.at(this.nowMs + delayMs, run);
  }

  /** Runs the next event if it is due by limitMs; returns false when none is. */
  runNext(limitMs: number): boolean {
    const top = this.heap[0];
    if (top === undefined || top.timeMs > limitMs) return false;
    this.pop();
    this.nowMs = top.timeMs;
    top.run();
    return true;
  }

  private less(a: SimEvent, b: SimEvent): boolean {
    return a.timeMs < b.timeMs || (a.timeMs === b.timeMs && a.seq < b.seq);
  }

  private push(e: SimEvent): void {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && this.less(h[l], h[m])) m = l;
      if (r < h.length && this.less(h[r], h[m])) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
  }
}
