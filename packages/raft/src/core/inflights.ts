// Inflights: flow control for a follower in replicate state. Each 'app'
// message sent records its last index; acks free everything up to the acked
// index. When full, the leader stops sending until acks arrive (§10.2 of the
// thesis mentions pipelining; this bounds it).
//
// A ring buffer: O(1) add, amortised O(1) free, no allocation after creation.

export class Inflights {
  private start = 0;
  private count = 0;
  private readonly buffer: number[];

  constructor(readonly size: number) {
    this.buffer = new Array<number>(size).fill(0);
  }

  /** Records an in-flight message whose last entry index is `index` (indexes must increase). */
  add(index: number): void {
    if (this.full()) throw new Error('cannot add into a full inflights');
    let next = this.start + this.count;
    if (next >= this.size) next -= this.size;
    this.buffer[next] = index;
    this.count++;
  }

  /** Frees all in-flight messages whose index is <= to. */
  freeLE(to: number): void {
    if (this.count === 0 || to < this.buffer[this.start]) return;
    let idx = this.start;
    let i = 0;
    for (; i < this.count; i++) {
      if (to < this.buffer[idx]) break;
      idx++;
      if (idx >= this.size) idx -= this.size;
    }
    this.count -= i;
    this.start = this.count === 0 ? 0 : idx;
  }

  /** Frees the oldest in-flight message (used when a heartbeat answer shows the follower is alive). */
  freeFirstOne(): void {
    if (this.count > 0) this.freeLE(this.buffer[this.start]);
  }

  full(): boolean {
    return this.count === this.size;
  }

  length(): number {
    return this.count;
  }

  reset(): void {
    this.count = 0;
    this.start = 0;
  }
}
