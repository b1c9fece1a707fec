import type { Logger } from '@tswarm/api';
import type { AnyTable, Store, Watcher } from '@tswarm/store';

/**
 * Drives a leader role's reconcile passes: one pass at a time, another pass if anything
 * changed meanwhile (so a burst of events costs a few passes, not one per event), on every
 * store event of the watched tables, and every `periodMs` for what the store cannot signal
 * (timers, Raft membership). A watch that ends (lagged, restored) is re-opened: each pass
 * reads the whole state, so nothing is lost by missing events.
 */
export class ReconcileDriver {
  private watcher: Watcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private dirty = false;
  private stopped = true;

  constructor(
    private readonly d: {
      store: Store;
      tables: readonly AnyTable[];
      periodMs: number;
      /** One pass over the current state; its errors are logged and retried on the next kick. */
      pass(): Promise<void>;
      /** Called each period before deciding whether to kick; return false to skip. */
      due?(): boolean;
      logger: Logger;
      name: string;
    },
  ) {}

  get active(): boolean {
    return !this.stopped;
  }

  start(): void {
    this.stopped = false;
    this.watch();
    this.timer = setInterval(() => {
      if (this.d.due?.() ?? true) this.kick();
    }, this.d.periodMs);
    this.kick();
  }

  stop(): void {
    this.stopped = true;
    this.watcher?.close();
    this.watcher = undefined;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Asks for a pass: now if none runs, else right after the running one. */
  kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.dirty = true;
      return;
    }
    this.running = true;
    setImmediate(() => void this.loop());
  }

  private watch(): void {
    const w = this.d.store.watch({ tables: [...this.d.tables] });
    this.watcher = w;
    void (async () => {
      try {
        for await (const _ev of w) this.kick();
      } catch (e) {
        if (!this.stopped && this.watcher === w) {
          this.d.logger.debug(`${this.d.name}: watch ended; re-opening it`, { error: (e as Error).message });
          this.watch();
          this.kick();
        }
      }
    })();
  }

  private async loop(): Promise<void> {
    try {
      do {
        this.dirty = false;
        await this.d.pass();
      } while (this.dirty && !this.stopped);
    } catch (e) {
      if (!this.stopped) this.d.logger.warn(`${this.d.name} pass failed; retrying on the next change`, { error: (e as Error).message });
    } finally {
      this.running = false;
    }
  }
}
