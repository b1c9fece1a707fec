// Runs a task through the filters against candidate nodes and explains the failures.
import { Task } from '@tswarm/api';
import { BoundFilter, DEFAULT_FILTERS, Filter } from './filters.js';
import { NodeInfo } from './node-info.js';

interface Entry {
  readonly bound: BoundFilter;
  /** Nodes that failed on this filter (the first that refused them). */
  failures: number;
}

/** One task's pass over the nodes. Create one per task; it counts failures as it goes. */
export class Pipeline {
  private readonly entries: Entry[];

  constructor(task: Task, filters: readonly Filter[] = DEFAULT_FILTERS) {
    this.entries = [];
    for (const f of filters) {
      const bound = f.bind(task);
      if (bound) this.entries.push({ bound, failures: 0 });
    }
  }

  /** True when every applicable filter passes; otherwise counts the first refusal. */
  passes(node: NodeInfo): boolean {
    for (const e of this.entries) {
      if (!e.bound.check(node)) {
        e.failures++;
        return false;
      }
    }
    return true;
  }

  /**
   * "1 node not available for new tasks; 2 nodes lack 4 GiB memory": the reasons with the
   * most failed nodes first; ties keep pipeline order, so the text is deterministic.
   */
  explain(): string {
    return this.entries
      .map((e, i) => ({ e, i }))
      .filter(({ e }) => e.failures > 0)
      .sort((a, b) => b.e.failures - a.e.failures || a.i - b.i)
      .map(({ e }) => e.bound.explain(e.failures))
      .join('; ');
  }
}
