import { VersionConflictError } from './errors.js';

/**
 * Runs `write` again while it fails with a VersionConflictError — its read was stale because
 * another writer's transaction applied first — at most `attempts` times in all. `retryable`
 * can refuse a conflict that is the caller's to report (a user's stale --version); `onRetry`
 * hears each retried conflict. Any other error, or the last conflict, is thrown.
 */
export async function retryOnConflict<T>(
  attempts: number,
  write: () => Promise<T>,
  opts: { retryable?(e: VersionConflictError): boolean; onRetry?(e: VersionConflictError, attempt: number): void } = {},
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (e) {
      if (!(e instanceof VersionConflictError) || attempt >= attempts || (opts.retryable && !opts.retryable(e))) throw e;
      opts.onRetry?.(e, attempt);
    }
  }
}
