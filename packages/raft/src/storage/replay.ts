// Rebuilds the log from the WAL's record stream, as the core built it.
//
// Rules, applied in stream order:
//   - hardState: the last one wins.
//   - entry at index i: replaces the log from i on (a conflicting suffix
//     from a new leader truncates what was recorded before). An entry at or
//     below the newest snapshot marker is ignored: that part of the log is
//     committed and the snapshot holds it. An entry that does not connect to
//     the log (a hole) starts the log anew; whatever it cut off can only be
//     reached through a later snapshot.
//   - snapshot marker (index, term): mirrors the core's restore rule. If the
//     log holds `index` with `term`, the snapshot is a compaction of this log
//     and every entry is kept (entries after it are live; entries before it
//     let recovery fall back to an older snapshot). Otherwise it is a
//     leader's snapshot that replaced the log: everything before is dropped.

import type { Entry, HardState } from '../core/types.js';
import { RecordType, type SnapshotRef, type WalRecord } from './codec.js';

export const ZERO_SNAPSHOT: SnapshotRef = { index: 0, term: 0 };

export class LogReplay {
  hardState: HardState = { term: 0, vote: '', commit: 0 };
  /** The newest snapshot marker seen. */
  private base: SnapshotRef | undefined;
  /** Index of entries[0]. Invariant: entries[k].index === first + k. */
  private first = 1;
  private entries: Entry[] = [];
  /**
   * Snapshots the current log can be rebuilt from: recorded after the last
   * log reset. The zero snapshot (an empty log at index 0) until a reset.
   */
  private candidates: SnapshotRef[] = [ZERO_SNAPSHOT];

  apply(rec: WalRecord): void {
    switch (rec.type) {
      case RecordType.Entry:
        this.onEntry(rec.entry);
        break;
      case RecordType.HardState:
        this.hardState = rec.hardState;
        break;
      case RecordType.SnapshotMarker:
        this.onMarker(rec.snapshot);
        break;
      case RecordType.SegmentHeader:
        break;
    }
  }

  /** The newest snapshot marker in the log, if any. */
  latestMarker(): SnapshotRef | undefined {
    return this.base;
  }

  /** Index of the last entry, or of the snapshot the log starts from. */
  lastIndex(): number {
    if (this.entries.length > 0) return this.first + this.entries.length - 1;
    return this.base?.index ?? 0;
  }

  /**
   * The entries after `snap` if the log can be rebuilt from it, or a reason
   * it cannot (not recorded in the log, or the log no longer reaches back).
   */
  entriesAfter(snap: SnapshotRef): Entry[] | string {
    if (!this.candidates.some((c) => c.index === snap.index && c.term === snap.term)) {
      return 'the log does not record it (or was replaced by a newer snapshot since)';
    }
    if (this.entries.length === 0) {
      const at = this.base ?? ZERO_SNAPSHOT;
      return snap.index === at.index ? [] : `the log keeps no entries after index ${at.index}`;
    }
    if (this.first > snap.index + 1) return `the log starts at index ${this.first}, after ${snap.index + 1}`;
    return this.entries.slice(snap.index + 1 - this.first);
  }

  private onEntry(e: Entry): void {
    if (this.base && e.index <= this.base.index) return;
    const n = this.entries.length;
    if (n === 0 || e.index < this.first || e.index > this.first + n) {
      this.entries = [e];
      this.first = e.index;
      return;
    }
    this.entries.length = e.index - this.first;
    this.entries.push(e);
  }

  private onMarker(m: SnapshotRef): void {
    const t = this.termAt(m.index);
    const continuesLog = t === undefined && this.entries.length > 0 && m.index < this.first;
    if (t === m.term || continuesLog) {
      this.base = m;
      this.candidates.push(m);
      return;
    }
    this.base = m;
    this.entries = [];
    this.first = m.index + 1;
    this.candidates = [m];
  }

  private termAt(i: number): number | undefined {
    if (this.base && i === this.base.index) return this.base.term;
    const k = i - this.first;
    if (k >= 0 && k < this.entries.length) return this.entries[k].term;
    return undefined;
  }
}
