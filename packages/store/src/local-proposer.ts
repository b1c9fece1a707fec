// A single-node, in-memory Proposer for tests and for a one-manager lab: every proposal
// commits immediately at the next index and is applied before propose() resolves.
// It keeps the committed log so a test can feed the same entries to other replicas.
import type { Proposer, ReplicatedStateMachine } from './proposer.js';
import { ownCopy } from './table.js';

export interface LoggedEntry {
  readonly index: number;
  readonly data: Uint8Array;
}

export class LocalProposer implements Proposer {
  /** Every committed entry, in order. Invariant: log[i].index === i + 1. */
  readonly log: LoggedEntry[] = [];
  private machine: Pick<ReplicatedStateMachine, 'apply'> | undefined;
  /** Set by failNext(): the next proposal rejects with this error instead of committing. */
  private nextFailure: Error | undefined;

  /** The state machine to apply to; call once, after constructing the store. */
  attach(machine: Pick<ReplicatedStateMachine, 'apply'>): void {
    this.machine = machine;
  }

  get lastIndex(): number {
    return this.log.length;
  }

  /** Test hook: make the next propose() reject (e.g. with a not-leader error). */
  failNext(error: Error): void {
    this.nextFailure = error;
  }

  async propose(data: Uint8Array): Promise<number> {
    if (this.nextFailure) {
      const err = this.nextFailure;
      this.nextFailure = undefined;
      throw err;
    }
    if (!this.machine) throw new Error('LocalProposer: attach(store) before proposing');
    const index = this.log.length + 1;
    // Copy: the caller owns its buffer, the log must not change under replicas.
    const entry = { index, data: ownCopy(data) };
    this.log.push(entry);
    this.machine.apply(index, entry.data);
    return index;
  }

  async readIndex(): Promise<number> {
    return this.log.length;
  }
}
