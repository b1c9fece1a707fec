// A FIFO of async operations run one at a time: the data plane's single owner of state
// (STYLE 4). Every public call of LinuxDataplane becomes one operation; an operation may run
// kernel commands in parallel internally, but never overlaps another operation.
export class SerialQueue {
  private tail: Promise<void> = Promise.resolve();

  push<T>(op: () => Promise<T>): Promise<T> {
    const p = this.tail.then(op);
    this.tail = p.then(
      () => undefined,
      () => undefined,
    );
    return p;
  }

  /** Resolves once everything queued so far has finished. */
  idle(): Promise<void> {
    return this.tail;
  }
}

/** Runs `fn` over `items` with at most `limit` in flight; never rejects (fn handles errors). */
export async function forEachLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
