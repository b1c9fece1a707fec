// RaftLog: the log as the core sees it = durable Storage + Unstable tail.
//
// Invariants: applied <= committed <= lastIndex(); firstIndex()-1 is the
// index of the latest snapshot (its term stays known for matching).

import { CompactedError, UnavailableError } from './errors.js';
import type { Entry, Logger, Snapshot, Storage } from './types.js';
import { Unstable } from './unstable.js';
import { limitSize } from './util.js';

export class RaftLog {
  readonly unstable: Unstable;
  /** Highest index known to be stored on a quorum. */
  committed: number;
  /** Highest index the host has applied (told via advance). Invariant: applied <= committed. */
  applied: number;

  constructor(
    readonly storage: Storage,
    private readonly logger: Logger,
    /** Max bytes of committed entries handed out in one Ready. */
    private readonly maxNextEntsBytes: number,
  ) {
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new Unstable(last + 1);
    this.committed = first - 1;
    this.applied = first - 1;
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  /**
   * Term of entry i, or undefined when i is compacted (i < firstIndex()-1) or
   * beyond the last index. The term at firstIndex()-1 (snapshot) is known.
   */
  term(i: number): number | undefined {
    const t = this.unstable.maybeTerm(i);
    if (t !== undefined) return t;
    if (i + 1 < this.firstIndex() || i > this.lastIndex()) return undefined;
    try {
      return this.storage.term(i);
    } catch (err) {
      if (err instanceof CompactedError || err instanceof UnavailableError) return undefined;
      throw err;
    }
  }

  /** Term of i, with 0 for unknown indexes (useful for comparisons). */
  zeroTermOnErr(i: number): number {
    return this.term(i) ?? 0;
  }

  lastTerm(): number {
    return this.zeroTermOnErr(this.lastIndex());
  }

  matchTerm(i: number, t: number): boolean {
    return this.term(i) === t;
  }

  /** §5.4.1: a candidate's log (lasti, term) is at least as up-to-date as ours. */
  isUpToDate(lasti: number, term: number): boolean {
    const lt = this.lastTerm();
    return term > lt || (term === lt && lasti >= this.lastIndex());
  }

  /**
   * Follower side of AppendEntries (§5.3): if our log has (index, logTerm),
   * append ents (truncating conflicts), advance commit, and return the new
   * last index; otherwise undefined.
   */
  maybeAppend(index: number, logTerm: number, committed: number, ents: Entry[]): number | undefined {
    if (!this.matchTerm(index, logTerm)) return undefined;
    const lastNew = index + ents.length;
    const ci = this.findConflict(ents);
    if (ci !== 0) {
      if (ci <= this.committed) {
        throw new Error(`entry ${ci} conflicts with committed entry [committed(${this.committed})]`);
      }
      const start = ci - (index + 1);
      this.append(start === 0 ? ents : ents.slice(start));
    }
    this.commitTo(Math.min(committed, lastNew));
    return lastNew;
  }

  append(ents: Entry[]): number {
    if (ents.length === 0) return this.lastIndex();
    const after = ents[0].index - 1;
    if (after < this.committed) {
      throw new Error(`after(${after}) is out of range [committed(${this.committed})]`);
    }
    this.unstable.truncateAndAppend(ents);
    return this.lastIndex();
  }

  /**
   * Index of the first entry in ents that is new or conflicts with ours; 0 if
   * all are already present. Existing entries are never overwritten needlessly.
   */
  findConflict(ents: Entry[]): number {
    for (const e of ents) {
      if (!this.matchTerm(e.index, e.term)) {
        if (e.index <= this.lastIndex()) {
          this.logger.info(`found conflict at index ${e.index} [existing term: ${this.zeroTermOnErr(e.index)}, conflicting term: ${e.term}]`);
        }
        return e.index;
      }
    }
    return 0;
  }

  /**
   * Largest index <= index whose term is <= term, with that term (etcd's
   * fast log backtracking: skips a whole conflicting term per round trip).
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (; index > 0; index--) {
      const t = this.term(index);
      if (t === undefined) return { index, term: 0 };
      if (t <= term) return { index, term: t };
    }
    return { index: 0, term: 0 };
  }

  unstableEntries(): Entry[] {
    return this.unstable.entries.length === 0 ? [] : this.unstable.entries.slice();
  }

  /** Committed entries not yet applied (bounded by maxNextEntsBytes). */
  /** Committed entries not yet applied, up to `limit` (see RawNode's applyLimit). */
  nextEnts(limit = Infinity): Entry[] {
    const off = Math.max(this.applied + 1, this.firstIndex());
    const hi = Math.min(this.committed, limit);
    if (hi + 1 > off) return this.slice(off, hi + 1, this.maxNextEntsBytes);
    return [];
  }

  hasNextEnts(limit = Infinity): boolean {
    return Math.min(this.committed, limit) + 1 > Math.max(this.applied + 1, this.firstIndex());
  }

  hasPendingSnapshot(): boolean {
    return this.unstable.snapshot !== undefined;
  }

  /** Latest snapshot; may throw SnapshotTemporarilyUnavailableError from storage. */
  snapshot(): Snapshot {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  commitTo(toCommit: number): void {
    if (this.committed >= toCommit) return;
    if (this.lastIndex() < toCommit) {
      throw new Error(`tocommit(${toCommit}) is out of range [lastIndex(${this.lastIndex()})]. Was the raft log corrupted, truncated, or lost?`);
    }
    this.committed = toCommit;
  }

  appliedTo(i: number): void {
    if (i === 0) return;
    if (this.committed < i || i < this.applied) {
      throw new Error(`applied(${i}) is out of range [prevApplied(${this.applied}), committed(${this.committed})]`);
    }
    this.applied = i;
  }

  stableTo(i: number, t: number): void {
    this.unstable.stableTo(i, t);
  }

  stableSnapTo(i: number): void {
    this.unstable.stableSnapTo(i);
  }

  /** §5.4.2: commit only an entry of the leader's current term by counting replicas. */
  maybeCommit(maxIndex: number, term: number): boolean {
    if (maxIndex > this.committed && this.term(maxIndex) === term) {
      this.commitTo(maxIndex);
      return true;
    }
    return false;
  }

  restore(s: Snapshot): void {
    this.logger.info(`log starts to restore snapshot [index: ${s.metadata.index}, term: ${s.metadata.term}]`);
    this.committed = s.metadata.index;
    this.unstable.restore(s);
  }

  /**
   * Entries in [lo, hi), at most maxBytes (but at least one). Throws
   * CompactedError if lo is compacted, UnavailableError past the end.
   */
  entries(lo: number, maxBytes: number): Entry[] {
    if (lo > this.lastIndex()) return [];
    return this.slice(lo, this.lastIndex() + 1, maxBytes);
  }

  slice(lo: number, hi: number, maxBytes: number): Entry[] {
    if (lo > hi) throw new Error(`invalid slice ${lo} > ${hi}`);
    const fi = this.firstIndex();
    if (lo < fi) throw new CompactedError();
    if (hi > this.lastIndex() + 1) throw new UnavailableError(`slice[${lo},${hi}) out of bound [${fi},${this.lastIndex()}]`);
    if (lo === hi) return [];
    const off = this.unstable.offset;
    let stored: Entry[] | undefined;
    if (lo < off) {
      stored = this.storage.entries(lo, Math.min(hi, off), maxBytes);
      // Storage returned fewer than asked (size limit): stop there.
      if (stored.length < Math.min(hi, off) - lo) return stored;
    }
    if (hi > off) {
      const unst = this.unstable.slice(Math.max(lo, off), hi);
      const all = stored && stored.length > 0 ? stored.concat(unst) : unst;
      return limitSize(all, maxBytes);
    }
    return stored ?? [];
  }
}
