// What the control API handlers share: injected dependencies (no clock, randomness or
// Raft inside the handlers — STYLE 1), the write queue, and small store helpers.
import type { Logger, Meta } from '@tswarm/api';
import { retryOnConflict, VersionConflictError, type Store, type Versioned, type WriteTx } from '@tswarm/store';
import type { RaftMembers } from './raft-members.js';

export interface ControlApiDeps {
  store: Store;
  /** Wall clock in Unix milliseconds, for meta timestamps and status times. */
  nowMs(): number;
  /** A fresh object ID: 25 lower-case base-36 characters, like Swarm's. */
  newId(): string;
  /** This manager's node ID (its Raft member ID). */
  localNodeId(): string;
  raft: RaftMembers;
  logger: Logger;
  /** Randomness for join-token rotation; default crypto.randomBytes. */
  randomBytes?: (n: number) => Uint8Array;
}

/**
 * Internal retries of a write whose read went stale because *another component* (the
 * dispatcher reporting task status, the orchestrator) wrote an object we also touch.
 * A conflict on the object the user named with an explicit version is never retried:
 * that one is the user's "update out of sequence".
 */
export const WRITE_ATTEMPTS = 5;

export class ControlContext {
  /**
   * Control-API writes run one at a time. Checks that span objects — published ports
   * free across services, "not the last manager" across nodes — are made in the
   * transaction's read and are not re-checked at apply time (the store only re-checks
   * versions and unique indexes). Serializing makes them exact as long as writes are
   * made on one manager (followers forward writes to the leader); a human-driven API
   * loses nothing by queueing.
   */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly deps: ControlApiDeps) {}

  get store(): Store {
    return this.deps.store;
  }

  serialize<R>(fn: () => Promise<R>): Promise<R> {
    const run = this.queue.then(() => fn());
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * store.update(fn), serialized, re-run when a version conflict shows the read was stale
   * and `retryable(err)` says it was not the user's conflict. Resolves with the result
   * and the version the transaction applied at.
   */
  write<R>(fn: (tx: WriteTx) => R, retryable: (e: VersionConflictError) => boolean = () => true): Promise<{ version: number; result: R }> {
    return this.serialize(() =>
      retryOnConflict(WRITE_ATTEMPTS, () => this.store.update(fn), {
        retryable,
        onRetry: (e, attempt) => this.deps.logger.debug('control api write raced another writer; retrying', { table: e.table, id: e.id, attempt }),
      }),
    );
  }
}

/**
 * A mutable deep copy of a stored object with meta.version filled from the row. The row
 * version (the Raft index that last wrote the object) is the truth; what the object
 * itself says in meta.version is ignored, so writers never need to keep it in sync.
 */
export function withVersion<T extends { meta: Meta | undefined }>(row: Versioned<T>): T {
  const copy = structuredClone(row.object) as T;
  copy.meta = { version: row.version, createdAtMs: copy.meta?.createdAtMs ?? 0, updatedAtMs: copy.meta?.updatedAtMs ?? 0 };
  return copy;
}

/** The same, for an object just written at `version`. */
export function atVersion<T extends { meta: Meta | undefined }>(obj: T, version: number): T {
  return withVersion({ object: obj, version, createdIndex: 0 });
}

/** meta for an object being written: created time kept, updated time now; version left to the row. */
export function touchedMeta(prev: Meta | undefined, nowMs: number): Meta {
  return { version: 0, createdAtMs: prev?.createdAtMs || nowMs, updatedAtMs: nowMs };
}
