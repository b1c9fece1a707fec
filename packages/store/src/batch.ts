// store.batch(): many small atomic units (e.g. "create task 17") packed into as few
// transactions as the limits allow. A unit never straddles two transactions; the batch
// as a whole is NOT atomic — transactions commit one after another.
import { StoreError, TransactionTooLargeError } from './errors.js';
import type { RowSource } from './state.js';
import { Overlay, TxBuilder, type WriteTx } from './tx.js';

/**
 * Actions per batch transaction. Keeps each Raft entry quick to replicate and apply, so
 * a 1000-task create interleaves with other writers (heartbeats, status updates) instead
 * of stalling them, and a version conflict costs a retry of 200 actions, not 1000.
 */
export const MAX_ACTIONS_PER_TRANSACTION = 200;

/**
 * Bytes per transaction (one Raft entry), for update() and batch() alike. gRPC's default
 * message limit is 4 MiB; 1.5 MiB leaves room for the Raft envelope and for a follower's
 * AppendEntries to carry more than one entry.
 */
export const MAX_TRANSACTION_BYTES = 1.5 * 1024 * 1024;

export interface Batch {
  /**
   * Runs `fn` as one atomic unit. Resolves once the unit is staged (not yet committed:
   * batch() resolves when everything is). `fn` may run twice — when its writes do not
   * fit in the transaction being filled, that one is committed and `fn` re-runs on the
   * fresh state — so it should only read and write through `tx`. If `fn` throws, its
   * writes are discarded and the error is returned here; the batch goes on.
   * Await each call: units run one at a time.
   */
  update(fn: (tx: WriteTx) => void | Promise<void>): Promise<void>;
}

export interface BatchResult {
  /** Transactions (Raft entries) committed. */
  readonly transactions: number;
  readonly actions: number;
  /** Version of the last committed transaction (the store version if none). */
  readonly version: number;
}

/** A transaction of the batch failed; those before it are committed, nothing after. */
export class BatchError extends StoreError {
  constructor(readonly committedUnits: number, readonly cause: Error) {
    super(`batch stopped after ${committedUnits} committed units: ${cause.message}`);
  }
}

export interface BatchLimits {
  readonly maxActions: number;
  readonly maxBytes: number;
}

export async function runBatch(
  source: RowSource,
  commit: (o: Overlay) => Promise<number>,
  fn: (b: Batch) => void | Promise<void>,
  limits: BatchLimits,
): Promise<BatchResult> {
  let current = new Overlay(source);
  let unitsInCurrent = 0;
  let committedUnits = 0;
  let transactions = 0;
  let actions = 0;
  let version = source.version;
  let failed: BatchError | undefined;
  let busy = false;

  const flush = async (): Promise<void> => {
    if (current.size === 0) return; // units that cancelled out (create then delete)
    const n = current.measure().actions;
    try {
      version = await commit(current);
    } catch (err) {
      failed = new BatchError(committedUnits, err as Error);
      throw failed;
    }
    transactions++;
    actions += n;
    committedUnits += unitsInCurrent;
    unitsInCurrent = 0;
    current = new Overlay(source);
  };

  const update = async (unitFn: (tx: WriteTx) => void | Promise<void>): Promise<void> => {
    if (failed) throw failed;
    if (busy) throw new Error('batch.update() called while another unit is running; await each call');
    busy = true;
    try {
      for (let attempt = 0; ; attempt++) {
        const unit = new Overlay(current);
        const tx = new TxBuilder(unit);
        try {
          await unitFn(tx);
        } finally {
          tx.seal();
        }
        if (unit.size === 0) return;
        const u = unit.measure();
        if (u.bytes > limits.maxBytes) {
          throw new TransactionTooLargeError(u.bytes, limits.maxBytes, 'one batch unit must fit in one transaction; split the unit');
        }
        const c = current.measure();
        // Sums bound the merged size (merging only removes actions), so this never overshoots.
        const fits = c.actions + u.actions <= limits.maxActions && c.bytes + u.bytes <= limits.maxBytes;
        if (!fits && current.size > 0 && attempt === 0) {
          await flush();
          continue; // re-run on the state that now includes the flushed transaction
        }
        current.absorb(unit);
        unitsInCurrent++;
        if (current.measure().actions >= limits.maxActions) await flush();
        return;
      }
    } finally {
      busy = false;
    }
  };

  let fnError: unknown;
  try {
    await fn({ update });
  } catch (err) {
    fnError = err;
  }
  if (failed) throw failed;
  // Units that completed are committed even if fn failed afterwards: the caller saw them succeed.
  await flush();
  if (fnError !== undefined) throw fnError;
  return { transactions, actions, version };
}
