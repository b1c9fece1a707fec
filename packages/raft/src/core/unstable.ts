// The unstable part of the log: entries (and possibly a snapshot) the core has
// accepted but the host has not yet persisted. Handed out in Ready.entries /
// Ready.snapshot and dropped by stableTo / stableSnapTo after advance().
//
// Invariant: entries[i].index === offset + i.
// Invariant: if snapshot is set, offset === snapshot.metadata.index + 1 until
// entries are appended after it.

import type { Entry, Snapshot } from './types.js';

export class Unstable {
  snapshot: Snapshot | undefined = undefined;
  entries: Entry[] = [];
  /** Index of entries[0] (or where the next entry would go). */
  offset: number;

  constructor(offset: number) {
    this.offset = offset;
  }

  /** First index if a snapshot is pending, else undefined. */
  maybeFirstIndex(): number | undefined {
    return this.snapshot ? this.snapshot.metadata.index + 1 : undefined;
  }

  maybeLastIndex(): number | undefined {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot ? this.snapshot.metadata.index : undefined;
  }

  maybeTerm(i: number): number | undefined {
    if (i < this.offset) {
      if (this.snapshot && this.snapshot.metadata.index === i) return this.snapshot.metadata.term;
      return undefined;
    }
    const k = i - this.offset;
    return k < this.entries.length ? this.entries[k].term : undefined;
  }

  /** Entries up to (i, t) are persisted: drop them. Ignored if (i, t) no longer matches (log was truncated). */
  stableTo(i: number, t: number): void {
    const gt = this.maybeTerm(i);
    if (gt === undefined || gt !== t || i < this.offset) return;
    const n = i + 1 - this.offset;
    this.entries = n >= this.entries.length ? [] : this.entries.slice(n);
    this.offset = i + 1;
  }

  stableSnapTo(i: number): void {
    if (this.snapshot && this.snapshot.metadata.index === i) this.snapshot = undefined;
  }

  restore(s: Snapshot): void {
    this.offset = s.metadata.index + 1;
    this.entries = [];
    this.snapshot = s;
  }

  /** Appends ents (contiguous), replacing any existing entries from ents[0].index on. */
  truncateAndAppend(ents: Entry[]): void {
    const after = ents[0].index;
    const end = this.offset + this.entries.length;
    if (after === end) {
      for (const e of ents) this.entries.push(e);
    } else if (after <= this.offset) {
      // The whole unstable part is replaced.
      this.offset = after;
      this.entries = ents.slice();
    } else {
      // Keep [offset, after), then append.
      this.entries = this.entries.slice(0, after - this.offset);
      for (const e of ents) this.entries.push(e);
    }
  }

  /** Entries in [lo, hi); caller checked lo >= offset and hi <= offset + entries.length. */
  slice(lo: number, hi: number): Entry[] {
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }
}
