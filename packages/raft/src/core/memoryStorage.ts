// MemoryStorage: an in-memory Storage, like etcd's. Tests use it directly; the
// on-disk WAL loads into one at restart and appends to it as it persists Ready.
//
// Layout: ents[0] is a dummy entry whose index/term are those of the latest
// snapshot (or 0/0). Invariant: ents[i].index === ents[0].index + i.

import { CompactedError, SnapOutOfDateError, UnavailableError } from './errors.js';
import type { ConfState, Entry, HardState, Snapshot, Storage } from './types.js';
import { limitSize } from './util.js';

export class MemoryStorage implements Storage {
  private hardState: HardState = { term: 0, vote: '', commit: 0 };
  private snap: Snapshot = {
    metadata: { index: 0, term: 0, confState: { voters: [], learners: [] } },
    data: new Uint8Array(0),
  };
  private ents: Entry[] = [{ term: 0, index: 0, type: 'normal', data: new Uint8Array(0) }];

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: { ...this.hardState }, confState: cloneConfState(this.snap.metadata.confState) };
  }

  setHardState(hs: HardState): void {
    this.hardState = { ...hs };
  }

  /** Sets the ConfState reported by initialState (used by bootstrap). */
  setConfState(cs: ConfState): void {
    this.snap = { ...this.snap, metadata: { ...this.snap.metadata, confState: cloneConfState(cs) } };
  }

  entries(lo: number, hi: number, maxBytes: number): Entry[] {
    const offset = this.ents[0].index;
    if (lo <= offset) throw new CompactedError();
    if (hi > this.lastIndex() + 1) {
      throw new UnavailableError(`entries' hi(${hi}) is out of bound lastindex(${this.lastIndex()})`);
    }
    // Only the dummy entry left: nothing to return.
    if (this.ents.length === 1) throw new UnavailableError();
    return limitSize(this.ents.slice(lo - offset, hi - offset), maxBytes);
  }

  term(i: number): number {
    const offset = this.ents[0].index;
    if (i < offset) throw new CompactedError();
    if (i - offset >= this.ents.length) throw new UnavailableError();
    return this.ents[i - offset].term;
  }

  firstIndex(): number {
    return this.ents[0].index + 1;
  }

  lastIndex(): number {
    return this.ents[0].index + this.ents.length - 1;
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  /** Replaces the whole contents with a snapshot received from the leader. */
  applySnapshot(snap: Snapshot): void {
    if (this.snap.metadata.index >= snap.metadata.index) throw new SnapOutOfDateError();
    this.snap = snap;
    this.ents = [{ term: snap.metadata.term, index: snap.metadata.index, type: 'normal', data: new Uint8Array(0) }];
  }

  /**
   * Records a snapshot of the applied state at index i (i <= lastIndex). The
   * caller may then compact(i) to drop the log before it.
   */
  createSnapshot(i: number, cs: ConfState | undefined, data: Uint8Array): Snapshot {
    if (i <= this.snap.metadata.index) throw new SnapOutOfDateError();
    const offset = this.ents[0].index;
    if (i > this.lastIndex()) throw new Error(`snapshot ${i} is out of bound lastindex(${this.lastIndex()})`);
    this.snap = {
      metadata: {
        index: i,
        term: this.ents[i - offset].term,
        confState: cs ? cloneConfState(cs) : this.snap.metadata.confState,
      },
      data,
    };
    return this.snap;
  }

  /** Discards entries before compactIndex; compactIndex becomes the new dummy entry. */
  compact(compactIndex: number): void {
    const offset = this.ents[0].index;
    if (compactIndex <= offset) throw new CompactedError();
    if (compactIndex > this.lastIndex()) {
      throw new Error(`compact ${compactIndex} is out of bound lastindex(${this.lastIndex()})`);
    }
    const i = compactIndex - offset;
    const dummy: Entry = { term: this.ents[i].term, index: this.ents[i].index, type: 'normal', data: new Uint8Array(0) };
    this.ents = [dummy, ...this.ents.slice(i + 1)];
  }

  /**
   * Appends entries (must be contiguous); entries that overlap the existing
   * log replace it from the first overlapping index on (truncating the rest).
   */
  append(entries: Entry[]): void {
    if (entries.length === 0) return;
    const first = this.firstIndex();
    const last = entries[0].index + entries.length - 1;
    if (last < first) return; // all already compacted
    if (first > entries[0].index) entries = entries.slice(first - entries[0].index);
    const offset = entries[0].index - this.ents[0].index;
    if (offset > this.ents.length) {
      throw new Error(`missing log entry [last: ${this.lastIndex()}, append at: ${entries[0].index}]`);
    }
    if (offset < this.ents.length) this.ents.length = offset; // truncate the conflicting suffix
    for (const e of entries) this.ents.push(e);
  }
}

export function cloneConfState(cs: ConfState): ConfState {
  return { voters: [...cs.voters], learners: [...cs.learners] };
}
