// Follows one service's VIP chain in a sandbox with `nft monitor`, for the overlay benchmark's
// programming latency. Polling was the first way (`ip netns exec … nft list chain` every 10 ms in
// every sandbox at once), but its process spawns took the cores the cluster needed: measured
// 2026-11-27 on a demo cluster, a scaled-up task's container took 1.4 s from create to start
// while three such pollers ran, 0.47 s without them. A monitor costs nothing until the rules
// change, and names the moment they did.
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { run, runOk } from './exec.js';

/** Backends a service chain's DNAT rule names: the map's modulus, or one for a plain `dnat to`. */
function backendsOfRule(rule: string): number {
  return Number(/ mod (\d+) /.exec(rule)?.[1] ?? 1);
}

/** One nft transaction's effect on the chain's backends, from the lines `nft monitor` printed for it. */
export function backendsAfter(lines: readonly string[], chain: string): number | undefined {
  let backends: number | undefined;
  for (const line of lines) {
    const w = line.split(' ');
    if (w[2] !== 'ip' || w[3] !== 'tswarm_lb' || w[4] !== chain || w[1] !== 'rule') continue;
    if (w[0] === 'delete') backends = 0;
    else if (w[0] === 'add' && line.includes(' dnat to ')) backends = backendsOfRule(line);
  }
  return backends;
}

/** Backends of the VIP in a sandbox's `tswarm_lb` chain for the service, read once: 0 when dead or absent. */
export async function lbBackends(sandbox: string, chain: string): Promise<number> {
  const r = await run(['ip', 'netns', 'exec', sandbox, 'nft', 'list', 'chain', 'ip', 'tswarm_lb', chain], { timeoutMs: 5000 });
  const rule = r.stdout.split('\n').find((l) => l.includes(' dnat to '));
  return rule ? backendsOfRule(rule) : 0;
}

/** A table of the bench's own, added and deleted to see that a monitor has subscribed. */
const READY_TABLE = 'tswbench_monitor_ready';

export class LbChainWatch {
  private backends = 0;
  /** performance.now() of the transaction that set `backends` (0 before any). */
  private changedAt = 0;
  private transaction: string[] = [];
  private waiter: { n: number; resolve: (at: number) => void } | undefined;
  private ready: (() => void) | undefined;

  private constructor(private readonly sandbox: string, private readonly chain: string, private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => this.onLine(line));
  }

  /** Subscribed before it resolves: no change after that is missed. */
  static async open(sandbox: string, chain: string): Promise<LbChainWatch> {
    const child = spawn('ip', ['netns', 'exec', sandbox, 'nft', 'monitor'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const watch = new LbChainWatch(sandbox, chain, child);
    try {
      const subscribed = new Promise<void>((resolve) => (watch.ready = resolve));
      for (let i = 0; i < 50 && watch.ready; i++) {
        await runOk(['ip', 'netns', 'exec', sandbox, 'nft', 'add', 'table', 'ip', READY_TABLE]);
        await runOk(['ip', 'netns', 'exec', sandbox, 'nft', 'delete', 'table', 'ip', READY_TABLE]);
        await Promise.race([subscribed, new Promise((r) => setTimeout(r, 100))]);
      }
      if (watch.ready) throw new Error(`nft monitor in ${sandbox} printed nothing within 5 s`);
      watch.backends = await lbBackends(sandbox, chain);
      return watch;
    } catch (err) {
      watch.close();
      throw err;
    }
  }

  private onLine(line: string): void {
    if (line.startsWith(`add table ip ${READY_TABLE}`) && this.ready) {
      this.ready();
      this.ready = undefined;
    }
    if (!line.startsWith('# new generation')) {
      this.transaction.push(line);
      return;
    }
    const at = performance.now();
    const after = backendsAfter(this.transaction, this.chain);
    this.transaction = [];
    if (after === undefined) return;
    this.backends = after;
    this.changedAt = at;
    const w = this.waiter;
    if (w?.n === after) {
      this.waiter = undefined;
      w.resolve(at);
    }
  }

  /**
   * performance.now() of the transaction that left `n` backends, waiting for it if the chain has
   * another count; if it has `n` already, when it got them (0: before the watch opened).
   */
  when(n: number, timeoutMs: number): Promise<number> {
    if (this.backends === n) return Promise.resolve(this.changedAt);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = undefined;
        reject(new Error(`timed out after ${timeoutMs / 1000} s waiting for ${n} backends in ${this.chain} (${this.sandbox}; last: ${this.backends})`));
      }, timeoutMs);
      this.waiter = {
        n,
        resolve: (at) => {
          clearTimeout(timer);
          resolve(at);
        },
      };
    });
  }

  close(): void {
    this.child.kill();
  }
}
