// The schedule trace of one run. Every scheduling decision (delivery, drop,
// tick, crash, partition, client call…) is folded into a running hash, so
// "same seed ⇒ same schedule" is one comparison; lines are kept only with
// --verbose because formatting them costs more than the hashing.

export class Trace {
  private h = 0x811c9dc5;
  readonly lines: string[] = [];
  events = 0;

  constructor(readonly verbose: boolean) {}

  /** Records one event. `line` is called only when verbose. */
  note(timeMs: number, code: string, line?: () => string): void {
    this.events++;
    let h = Math.imul(this.h ^ timeMs, 0x01000193);
    for (let i = 0; i < code.length; i++) h = Math.imul(h ^ code.charCodeAt(i), 0x01000193);
    this.h = h;
    if (this.verbose) this.lines.push(`${String(timeMs).padStart(7)}ms ${line ? line() : code}`);
  }

  hash(): string {
    return (this.h >>> 0).toString(16).padStart(8, '0') + ':' + this.events;
  }
}
