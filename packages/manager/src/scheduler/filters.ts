// The scheduler's filters, in the style of swarmkit's pipeline: each one decides whether a
// node can take a task, and explains in one phrase why a number of nodes could not.
//
// A filter is bound to one task first (`bind`), like swarmkit's SetTask: it returns
// undefined when it does not apply (a task without reservations skips the resource
// filters), and otherwise a check whose per-task work (parsing constraints) is done once.
import { NodeAvailability, NodeState, Task } from '@tswarm/api';
import { Constraint, nodeMatchesConstraints, parseConstraints } from './constraints.js';
import { formatBytes, formatCpus, nodePhrase } from './format.js';
import { NodeInfo } from './node-info.js';

export interface BoundFilter {
  /** True when the node can take the task. */
  check(node: NodeInfo): boolean;
  /** Why `nFailed` (>= 1) nodes failed this filter, e.g. "2 nodes lack 4 GiB memory". */
  explain(nFailed: number): string;
}

export interface Filter {
  /** Short name, for logs and tests. */
  readonly name: string;
  /** This filter's check for the task, or undefined when it does not apply to it. */
  bind(task: Task): BoundFilter | undefined;
}

/** The node's agent is connected and healthy (status READY). */
export const readyFilter: Filter = {
  name: 'ready',
  bind: () => ({
    check: (n) => n.node.status?.state === NodeState.NODE_STATE_READY,
    explain: (k) => nodePhrase(k, 'not ready', 'not ready'),
  }),
};

/** Only ACTIVE nodes take new tasks; PAUSE and DRAIN refuse them (Swarm's wording). */
export const availabilityFilter: Filter = {
  name: 'availability',
  bind: () => ({
    check: (n) => (n.node.spec?.availability ?? NodeAvailability.NODE_AVAILABILITY_ACTIVE) ===
      NodeAvailability.NODE_AVAILABILITY_ACTIVE,
    explain: (k) => nodePhrase(k, 'not available for new tasks', 'not available for new tasks'),
  }),
};

/**
 * Memory and CPU are separate filters so that the explanation names the resource that is
 * short, with the amount the task asks for ("2 nodes lack 4 GiB memory").
 */
export const memoryFilter: Filter = {
  name: 'memory',
  bind: (task) => {
    const want = task.spec?.resources?.reservations?.memoryBytes ?? 0;
    if (want <= 0) return undefined;
    return {
      check: (n) => n.availableMemoryBytes >= want,
      explain: (k) => nodePhrase(k, `lacks ${formatBytes(want)} memory`, `lack ${formatBytes(want)} memory`),
    };
  },
};

export const cpuFilter: Filter = {
  name: 'cpu',
  bind: (task) => {
    const want = task.spec?.resources?.reservations?.nanoCpus ?? 0;
    if (want <= 0) return undefined;
    return {
      check: (n) => n.availableNanoCpus >= want,
      explain: (k) => nodePhrase(k, `lacks ${formatCpus(want)}`, `lack ${formatCpus(want)}`),
    };
  },
};

/**
 * Placement constraints. The control API refuses bad constraints, so a parse error here
 * means a spec written before a rule tightened; such a task matches no node, and the
 * explanation carries the parse error so the user sees what to fix.
 */
export const constraintsFilter: Filter = {
  name: 'constraints',
  bind: (task) => {
    const texts = task.spec?.placement?.constraints ?? [];
    if (texts.length === 0) return undefined;
    let parsed: Constraint[] | undefined;
    let error = '';
    try {
      parsed = parseConstraints(texts);
    } catch (err) {
      error = (err as Error).message;
    }
    return {
      check: (n) => parsed !== undefined && nodeMatchesConstraints(parsed, n.node),
      explain: (k) =>
        parsed === undefined
          ? error
          : nodePhrase(k, 'does not satisfy the placement constraints', 'do not satisfy the placement constraints'),
    };
  },
};

/**
 * The order is the order of checks: a node fails on the first filter that refuses it, so
 * "not ready" hides "lacks memory" — the cheap, most fundamental reason is the one shown.
 */
export const DEFAULT_FILTERS: readonly Filter[] = [
  readyFilter,
  availabilityFilter,
  memoryFilter,
  cpuFilter,
  constraintsFilter,
];
