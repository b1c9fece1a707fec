// Naming and reading the WAL's segments (wal.ts writes them):
//
//   <seq>-<firstIndex>.wal   both as 16 hex digits, seq from 1.
//
// readWal lists the segments, refuses a gap in their sequence, and replays them
// (recovery.ts) without changing anything on disk.

import * as path from 'node:path';
import type { FsLike } from './fs-shim.js';
import { StorageRecoveryError } from './raft-storage.js';
import { type ReplayResult, type SegmentBytes, replaySegments } from './recovery.js';
import { hex16 } from './snap-file.js';

export interface Segment {
  seq: number;
  firstIndex: number;
  name: string;
}

const SEGMENT_NAME = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/;

export function segmentName(seq: number, firstIndex: number): string {
  return `${hex16(seq)}-${hex16(firstIndex)}.wal`;
}

export interface WalContents {
  segments: Segment[];
  /** Absent for an empty log. */
  replay?: ReplayResult;
}

/** Reads and replays the log in dir without changing anything. Throws WalCorruptionError / StorageRecoveryError. */
export function readWal(f: FsLike, dir: string): WalContents {
  const segments = listSegments(f, dir);
  if (segments.length === 0) return { segments };
  const bytes: SegmentBytes[] = segments.map((s) => ({
    label: s.name,
    seq: s.seq,
    firstIndex: s.firstIndex,
    buf: f.readFileSync(path.join(dir, s.name)),
  }));
  return { segments, replay: replaySegments(bytes) };
}

/** Segments in dir, ascending; refuses gaps. */
function listSegments(f: FsLike, dir: string): Segment[] {
  const segs: Segment[] = [];
  for (const name of f.readdirSync(dir)) {
    const m = SEGMENT_NAME.exec(name);
    if (m) segs.push({ name, seq: parseInt(m[1], 16), firstIndex: parseInt(m[2], 16) });
  }
  segs.sort((a, b) => a.seq - b.seq);
  for (let i = 1; i < segs.length; i++) {
    if (segs[i].seq !== segs[i - 1].seq + 1) {
      throw new StorageRecoveryError(
        `wal: segment ${hex16(segs[i - 1].seq + 1)} is missing between ${segs[i - 1].name} and ${segs[i].name} ` +
          `in ${dir}; the data directory is damaged — restore it from a backup or remove this manager and rejoin`,
      );
    }
  }
  return segs;
}
