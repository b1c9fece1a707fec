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

/**
 * Calls that arrive while their batch waits on the queue join it: one queued operation then
 * handles them all, and each call settles with its own item's outcome. `run` returns one
 * entry per item, in order (an Error fails that call); if `run` itself throws, every call of
 * the batch fails with it — none is left waiting.
 */
export class QueueBatch<T> {
  private pending: Array<{ item: T; resolve(): void; reject(e: Error): void }> = [];

  constructor(
    private readonly queue: SerialQueue,
    private readonly run: (items: readonly T[]) => Promise<ReadonlyArray<Error | undefined>>,
  ) {}

  add(item: T): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      if (this.pending.length > 1) return; // the queued operation will take this one too
      void this.queue.push(async () => {
        const batch = this.pending;
        this.pending = [];
        try {
          const errors = await this.run(batch.map((b) => b.item));
          for (const [i, b] of batch.entries()) (errors[i] ? b.reject(errors[i]!) : b.resolve());
        } catch (e) {
          for (const b of batch) b.reject(e instanceof Error ? e : new Error(String(e)));
        }
      });
    });
  }
}
