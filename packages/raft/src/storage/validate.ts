// Argument checks shared by the storages: a malformed batch would replay
// into a different log than the core holds, so it is refused up front.

import type { Entry } from '../core/types.js';
import type { RecoveredState } from './raft-storage.js';

/**
 * Throws RangeError unless entries are ascending, contiguous, and start at
 * or before lastIndex + 1 (a hole would replay as a different log).
 */
export function checkEntries(entries: readonly Entry[], lastIndex: number): void {
  if (entries.length > 0 && entries[0].index > lastIndex + 1) {
    throw new RangeError(
      `raft storage: entries start at index ${entries[0].index} but the log ends at ${lastIndex}; that would leave a hole`,
    );
  }
  for (let i = 1; i < entries.length; i++) {
    if (entries[i].index !== entries[0].index + i) {
      throw new RangeError(
        `raft storage: entries must be contiguous; got index ${entries[i].index} after ${entries[i - 1].index}`,
      );
    }
  }
  if (entries.length > 0 && entries[0].index < 1) {
    throw new RangeError(`raft storage: entry index ${entries[0].index} is below 1`);
  }
}

/** The last log index a recovered state holds. */
export function lastIndexOf(state: RecoveredState): number {
  return (state.snapshot?.metadata.index ?? 0) + state.entries.length;
}
