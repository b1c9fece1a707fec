// Errors of the Raft core. Storage implementations throw the first three;
// the node API throws ProposalDroppedError and ConfigError.

/** The requested index is older than the storage's first index (compacted into a snapshot). */
export class CompactedError extends Error {
  constructor(message = 'requested index is unavailable due to compaction') {
    super(message);
    this.name = 'CompactedError';
  }
}

/** The requested index is newer than the storage's last index. */
export class UnavailableError extends Error {
  constructor(message = 'requested entry at index is unavailable') {
    super(message);
    this.name = 'UnavailableError';
  }
}

/** The snapshot is being produced; the leader retries later. */
export class SnapshotTemporarilyUnavailableError extends Error {
  constructor(message = 'snapshot is temporarily unavailable') {
    super(message);
    this.name = 'SnapshotTemporarilyUnavailableError';
  }
}

/** The snapshot given is older than the one the storage already holds. */
export class SnapOutOfDateError extends Error {
  constructor(message = 'requested index is older than the existing snapshot') {
    super(message);
    this.name = 'SnapOutOfDateError';
  }
}

/**
 * A proposal (or conf change, or transfer) was not accepted; the caller may retry,
 * typically after a leader is known again. `reason` says why.
 */
export class ProposalDroppedError extends Error {
  constructor(readonly reason: string) {
    super(`raft proposal dropped: ${reason}`);
    this.name = 'ProposalDroppedError';
  }
}

/** Invalid Config or bootstrap call. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}
