// Recovery shared by the disk and memory storages: read the segments in
// order, replay them, pick the newest snapshot the log can be rebuilt from.

import type { Snapshot } from '../core/types.js';
import { RecordType, type SnapshotRef } from './codec.js';
import { type RecoveredState, StorageRecoveryError, WalCorruptionError } from './raft-storage.js';
import { LogReplay, ZERO_SNAPSHOT } from './replay.js';
import { readSegment } from './segment-reader.js';

export interface SegmentBytes {
  label: string;
  seq: number;
  firstIndex: number;
  buf: Buffer;
}

export interface ReplayResult {
  replay: LogReplay;
  /** Where appends continue in the last segment. */
  tailEnd: number;
  /** Set when the last segment's torn tail must be cut at tailEnd. */
  torn?: string;
}

/** Reads and replays segments (ascending seq, contiguous). Throws WalCorruptionError. */
export function replaySegments(segments: readonly SegmentBytes[]): ReplayResult {
  const replay = new LogReplay();
  let tailEnd = 0;
  let torn: string | undefined;
  segments.forEach((seg, i) => {
    const isLast = i === segments.length - 1;
    const read = readSegment(seg.buf, seg.label, isLast);
    const head = read.records[0];
    if (!head || head.type !== RecordType.SegmentHeader) {
      throw new WalCorruptionError(seg.label, 0, 'the segment does not start with a segment header');
    }
    if (head.header.seq !== seg.seq || head.header.firstIndex !== seg.firstIndex) {
      throw new WalCorruptionError(
        seg.label,
        0,
        `the header says segment ${head.header.seq} from index ${head.header.firstIndex}, the name disagrees`,
      );
    }
    for (const rec of read.records) replay.apply(rec);
    if (isLast) {
      tailEnd = read.validEnd;
      torn = read.torn;
    }
  });
  return { replay, tailEnd, torn };
}

/** Where snapshots live: the snap/ directory, or the memory disk's map. */
export interface SnapshotSource {
  /** The snapshots present, newest first. */
  list(): SnapshotRef[];
  /** The snapshot, or why it is damaged. */
  load(ref: SnapshotRef): Snapshot | string;
  /** How to name it in messages (a file name). */
  describe(ref: SnapshotRef): string;
}

/**
 * Picks the newest snapshot that is intact AND that the log can be rebuilt
 * from; a damaged newest one is skipped (with a warning) only if the log
 * still reaches back to an older one. Throws StorageRecoveryError otherwise.
 */
export function recoverState(
  replay: LogReplay,
  snaps: SnapshotSource,
  warnings: string[],
  where: string,
): { state: RecoveredState; unrecorded: SnapshotRef[] } {
  const problems: string[] = [];
  const unrecorded: SnapshotRef[] = [];
  const recorded = replay.latestMarker();
  for (const ref of snaps.list()) {
    const entries = replay.entriesAfter(ref);
    if (typeof entries === 'string') {
      if (!recorded || ref.index > recorded.index) {
        // Written, but the crash came before the log recorded it: useless,
        // and the caller removes it so it never crowds out a usable one.
        warnings.push(`snapshot ${snaps.describe(ref)} is not recorded in the log (interrupted save); removed`);
        unrecorded.push(ref);
      } else {
        problems.push(`${snaps.describe(ref)} cannot be used: ${entries}`);
      }
      continue;
    }
    const snap = snaps.load(ref);
    if (typeof snap === 'string') {
      problems.push(`${snaps.describe(ref)} is damaged: ${snap}`);
      warnings.push(`snapshot ${snaps.describe(ref)} is damaged (${snap}); trying an older one`);
      continue;
    }
    return { state: finish(replay, snap, entries, warnings, where), unrecorded };
  }
  const fromStart = replay.entriesAfter(ZERO_SNAPSHOT);
  if (typeof fromStart !== 'string') return { state: finish(replay, undefined, fromStart, warnings, where), unrecorded };
  if (recorded && !snaps.list().some((r) => r.index === recorded.index && r.term === recorded.term)) {
    problems.push(`the snapshot at index ${recorded.index} (term ${recorded.term}) that the log records is missing`);
  }
  problems.push(`replaying from the start is impossible: ${fromStart}`);
  throw new StorageRecoveryError(
    `raft storage: no usable snapshot for the log in ${where}: ${problems.join('; ')}; ` +
      'the data directory is damaged — restore it from a backup or remove this manager and rejoin',
  );
}

function finish(
  replay: LogReplay,
  snapshot: Snapshot | undefined,
  entries: RecoveredState['entries'],
  warnings: string[],
  where: string,
): RecoveredState {
  const base = snapshot?.metadata.index ?? 0;
  // A snapshot holds only committed entries, but the hard state that raised commit to it
  // may not have been synced when the process died (it rides in the same Ready, often
  // with mustSync false). Commit is at least the snapshot's index.
  const hardState = { ...replay.hardState, commit: Math.max(replay.hardState.commit, base) };
  const last = base + entries.length;
  if (hardState.commit > last) {
    throw new StorageRecoveryError(
      `raft storage: the saved state commits index ${hardState.commit} but the log in ${where} ends at ${last}: ` +
        'committed entries are missing; restore the data directory from a backup or remove this manager and rejoin',
    );
  }
  return { hardState: { ...hardState }, snapshot, entries, warnings };
}
