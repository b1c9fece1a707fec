// Raft's safety properties (Ongaro & Ousterhout, "In Search of an
// Understandable Consensus Algorithm", Figure 3), checked online as the
// simulation runs. Each check is O(1) or O(entries) per event, so they run on
// every schedule rather than as a final scan:
//
// - Election Safety: at most one leader per term.
// - Log Matching: if two logs hold an entry with the same index and term, the
//   logs are identical up to it. Checked inductively: whenever a node stores
//   entry (i, t) we record its data and the term of its predecessor i-1;
//   every later store of (i, t) anywhere must agree on both.
// - Leader Completeness: a leader of term T holds every entry committed in a
//   term < T. Checked when a node becomes leader, against entries applied so
//   far. We do not see the term an entry was committed in, but the applier's
//   current term bounds it from above (it learned the commit index from a
//   leader of its term or earlier), so we check entries whose bound is < T.
//   A leader of an older term may legitimately win late (delayed votes) and
//   lack entries committed in newer terms; the bound keeps that out.
// - State Machine Safety: no two nodes apply different entries at one index,
//   and a node re-applying after restart applies the same entries again.

import type { Entry, NodeId } from '../../src/core/types.js';

export class SafetyViolation extends Error {
  constructor(readonly invariant: string, detail: string) {
    super(`${invariant} violated: ${detail}`);
    this.name = 'SafetyViolation';
  }
}

export function entryDigest(e: Entry): string {
  // Entries are small; their bytes as text are an exact digest without hashing collisions.
  let s = `${e.type}:`;
  for (let i = 0; i < e.data.byteLength; i++) s += String.fromCharCode(e.data[i]);
  return s;
}

/** Minimal read access to a node's log for the leader-completeness check. */
export interface LogView {
  firstIndex(): number;
  lastIndex(): number;
  term(i: number): number;
}

export class SafetyChecker {
  private leaders = new Map<number, NodeId>();
  /** `${index}/${term}` → digest and predecessor term of that log entry. */
  private stored = new Map<string, { digest: string; prevTerm: number; by: NodeId }>();
  /** index → the entry applied there (by anyone), and an upper bound of the term it was committed in. */
  private applied = new Map<number, { term: number; digest: string; by: NodeId; commitTermBound: number }>();
  private maxApplied = 0;

  onLeader(id: NodeId, term: number, log: LogView): void {
    const prev = this.leaders.get(term);
    if (prev !== undefined && prev !== id) {
      throw new SafetyViolation('election safety', `term ${term} has two leaders: ${prev} and ${id}`);
    }
    this.leaders.set(term, id);
    this.checkCompleteness(id, term, log);
  }

  /** Called after a node stored entries in its log; prevTerm(i) reads the node's own log. */
  onStored(id: NodeId, entries: readonly Entry[], prevTermOf: (index: number) => number | undefined): void {
    for (const e of entries) {
      const key = `${e.index}/${e.term}`;
      const digest = entryDigest(e);
      // undefined: the predecessor is compacted away; the digest check still applies.
      const prevTerm = e.index === 1 ? 0 : prevTermOf(e.index - 1);
      const seen = this.stored.get(key);
      if (seen === undefined) {
        if (prevTerm !== undefined) this.stored.set(key, { digest, prevTerm, by: id });
        continue;
      }
      if (seen.digest !== digest) {
        throw new SafetyViolation('log matching', `entry ${key} differs between ${seen.by} and ${id}`);
      }
      if (prevTerm !== undefined && seen.prevTerm !== prevTerm) {
        throw new SafetyViolation('log matching',
          `entry ${key} follows term ${seen.prevTerm} on ${seen.by} but term ${prevTerm} on ${id}`);
      }
    }
  }

  /** appliersTerm: the applying node's current term. */
  onApplied(id: NodeId, e: Entry, appliersTerm: number): void {
    const digest = entryDigest(e);
    const seen = this.applied.get(e.index);
    if (seen === undefined) {
      this.applied.set(e.index, { term: e.term, digest, by: id, commitTermBound: appliersTerm });
      if (e.index > this.maxApplied) this.maxApplied = e.index;
      return;
    }
    if (seen.term !== e.term || seen.digest !== digest) {
      throw new SafetyViolation('state machine safety',
        `index ${e.index}: ${seen.by} applied term ${seen.term}, ${id} applied term ${e.term}` +
        (seen.digest !== digest ? ' with different data' : ''));
    }
    if (appliersTerm < seen.commitTermBound) seen.commitTermBound = appliersTerm;
  }

  /** Everything committed in an earlier term must be in a new leader's log. */
  private checkCompleteness(id: NodeId, term: number, log: LogView): void {
    const first = log.firstIndex();
    const last = log.lastIndex();
    for (let i = Math.max(first, 1); i <= this.maxApplied; i++) {
      const a = this.applied.get(i);
      if (a === undefined || a.commitTermBound >= term) continue; // snapshot-only, or maybe committed later
      if (i > last) {
        throw new SafetyViolation('leader completeness',
          `${id} became leader of term ${term} with lastIndex ${last}, missing index ${i} committed by term ${a.commitTermBound}`);
      }
      const t = log.term(i);
      if (t !== a.term) {
        throw new SafetyViolation('leader completeness',
          `${id} became leader of term ${term} holding term ${t} at committed index ${i} (committed term ${a.term})`);
      }
    }
  }

  get leaderTerms(): number {
    return this.leaders.size;
  }

  get appliedIndex(): number {
    return this.maxApplied;
  }
}
