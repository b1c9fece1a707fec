// Errors the store hands to its callers. Each message says what happened and what to
// do next, because they end up in CLI output and orchestrator logs.
//
// Transaction rejections (VersionConflictError, AlreadyExistsError, NotFoundError,
// DuplicateKeyError, UnknownTableError, InvalidObjectError) are decided at apply time
// from the entry and the replicated state alone, so every replica rejects the same
// entry the same way. They may also be raised early, while a transaction is being
// built, from the local (possibly stale) state — the apply-time check is the authority.

/** Base class: `instanceof StoreError` separates store outcomes from proposer failures. */
export class StoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** An update or delete named a version that is no longer current (optimistic concurrency). */
export class VersionConflictError extends StoreError {
  constructor(
    readonly table: string,
    readonly id: string,
    readonly expectedVersion: number,
    readonly actualVersion: number,
  ) {
    super(
      `${table}/${id}: expected version ${expectedVersion} but it is at version ${actualVersion} ` +
        `(changed by someone else); the transaction was not applied — re-read and retry`,
    );
  }
}

export class AlreadyExistsError extends StoreError {
  constructor(readonly table: string, readonly id: string) {
    super(`${table}/${id} already exists; the transaction was not applied`);
  }
}

export class NotFoundError extends StoreError {
  constructor(readonly table: string, readonly id: string) {
    super(`${table}/${id} does not exist (deleted or never created); the transaction was not applied`);
  }
}

/** A unique index (e.g. services by name) would hold two objects under one key. */
export class DuplicateKeyError extends StoreError {
  constructor(
    readonly table: string,
    readonly index: string,
    readonly key: string,
    readonly id: string,
    readonly existingId: string,
  ) {
    super(
      `${table}/${id}: ${index} "${key}" is already used by ${table}/${existingId}; ` +
        `choose another value or remove ${existingId} first`,
    );
  }
}

export class UnknownTableError extends StoreError {
  constructor(readonly table: string, known: readonly string[]) {
    super(`unknown store table "${table}" (registered: ${known.join(', ') || 'none'})`);
  }
}

/** The object cannot be stored: no id, bytes the codec rejects, or an id that does not match. */
export class InvalidObjectError extends StoreError {
  constructor(readonly table: string, readonly id: string, reason: string) {
    super(`${table}/${id || '<no id>'}: ${reason}`);
  }
}

/** One transaction would not fit in one Raft entry. */
export class TransactionTooLargeError extends StoreError {
  constructor(readonly bytes: number, readonly limitBytes: number, hint: string) {
    super(`store transaction is ${bytes} bytes, over the ${limitBytes}-byte limit of one Raft entry; ${hint}`);
  }
}

/**
 * The proposer reported our entry committed at `index`, but the entry applied at that
 * index was not ours (it was replaced after a leader change). Nothing of ours applied.
 */
export class ProposalDroppedError extends StoreError {
  constructor(readonly requestId: string, readonly index: number) {
    super(`store transaction ${requestId} was dropped at index ${index} (leadership changed); retry it`);
  }
}

/** A watch asked for events older than the in-memory history still holds. */
export class WatchTooOldError extends StoreError {
  constructor(readonly fromVersion: number, readonly oldestVersion: number) {
    super(
      `cannot watch from version ${fromVersion}: events up to version ${oldestVersion} are no longer ` +
        `kept; re-list with viewAndWatch() and watch from the version it returns`,
    );
  }
}

/** A watcher did not keep up; it was closed so that the applier never waits for it. */
export class WatcherLaggedError extends StoreError {
  constructor(readonly queueLimit: number, readonly atVersion: number) {
    super(
      `store watcher fell ${queueLimit} events behind (at version ${atVersion}) and was closed; ` +
        `re-list with viewAndWatch() and watch again`,
    );
  }
}

/**
 * The store's state was replaced wholesale by a Raft snapshot. Watchers are closed with
 * this error (they must re-list); pending transactions get it because whether they
 * applied inside the snapshot's range cannot be known.
 */
export class StoreRestoredError extends StoreError {
  constructor(readonly version: number, what: 'watch' | 'transaction') {
    super(
      what === 'watch'
        ? `store was restored from a snapshot at version ${version}; re-list with viewAndWatch() and watch again`
        : `store was restored from a snapshot at version ${version} while this transaction was pending; ` +
            `its outcome is unknown — re-read and retry if needed`,
    );
  }
}

export class StoreClosedError extends StoreError {
  constructor() {
    super('store is closed (this manager is shutting down or stepped down)');
  }
}
