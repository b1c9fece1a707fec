import { strict as assert } from 'node:assert';
import { NodeAvailability, NodeRole, NodeState, Task, TaskState } from '@tswarm/api';
import { formatBytes, formatCpus, parseConstraints, schedule } from '../../src/index.js';
import { GiB, CPU, node, task } from '../orchestrator/fixtures.js';

const NOW = 1_000;

function pending(id: string, p: Partial<Task> = {}): Task {
  return task({ id, state: TaskState.TASK_STATE_PENDING, ...p });
}

function reserving(memGiB: number, cpus = 0): Partial<Task> {
  return { spec: { resources: { reservations: { memoryBytes: memGiB * GiB, nanoCpus: cpus * CPU } } } } as Partial<Task>;
}

function perNode(assignments: Array<{ nodeId: string }>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const a of assignments) counts[a.nodeId] = (counts[a.nodeId] ?? 0) + 1;
  return counts;
}

describe('scheduler: spreading', () => {
  it('spreads 6 replicas 2/2/2 over 3 nodes', () => {
    const tasks = [1, 2, 3, 4, 5, 6].map((i) => pending(`w${i}`, { slot: i }));
    const r = schedule({ nodes: [node('n1'), node('n2'), node('n3')], tasks, pending: tasks }, NOW);
    assert.deepEqual(r.unschedulable, []);
    assert.deepEqual(perNode(r.assignments), { n1: 2, n2: 2, n3: 2 });
  });

  it('prefers fewer tasks of the same service, then fewer tasks overall, then the smaller node ID', () => {
    const existing = [
      task({ id: 'a', serviceId: 'web', nodeId: 'n1' }),
      task({ id: 'b', serviceId: 'db', nodeId: 'n2' }),
      task({ id: 'c', serviceId: 'db', nodeId: 'n2' }),
    ];
    const p = [pending('w1', { slot: 2 }), pending('w2', { slot: 3 })];
    const r = schedule({ nodes: [node('n1'), node('n2'), node('n3')], tasks: [...existing, ...p], pending: p }, NOW);
    // w1: n2 and n3 have no web task; n3 has fewer tasks overall. w2: n2 (0 web) beats n1, n3 (1 web).
    assert.deepEqual(r.assignments, [
      { taskId: 'w1', nodeId: 'n3' },
      { taskId: 'w2', nodeId: 'n2' },
    ]);
  });

  it('does not count tasks being shut down against spreading, but does against resources', () => {
    const leaving = task({ id: 'old', nodeId: 'n1', desiredState: TaskState.TASK_STATE_SHUTDOWN, ...reserving(12) });
    const p = [pending('w1', reserving(2))];
    let r = schedule({ nodes: [node('n1'), node('n2')], tasks: [leaving, ...p], pending: p }, NOW);
    assert.deepEqual(r.assignments, [{ taskId: 'w1', nodeId: 'n1' }], 'n1 wins the ID tie; the leaving task is not load');
    const big = [pending('w2', reserving(8))];
    r = schedule({ nodes: [node('n1')], tasks: [leaving, ...big], pending: big }, NOW);
    assert.deepEqual(r.unschedulable, [{ taskId: 'w2', message: 'no suitable node (1 node lacks 8 GiB memory)' }]);
  });

  it('is deterministic whatever the input order', () => {
    const nodes = ['n4', 'n2', 'n3', 'n1'].map((id) => node(id));
    const tasks = [5, 3, 1, 4, 2].map((i) => pending(`w${i}`, { slot: i }));
    const a = schedule({ nodes, tasks, pending: tasks }, NOW);
    const b = schedule({ nodes: [...nodes].reverse(), tasks: [...tasks].reverse(), pending: [...tasks].reverse() }, NOW);
    assert.deepEqual(a, b);
    assert.deepEqual(a.assignments.map((x) => x.nodeId), ['n1', 'n2', 'n3', 'n4', 'n1']);
  });
});

describe('scheduler: node state and availability', () => {
  it('places nothing on drained, paused or down nodes and says why', () => {
    const nodes = [
      node('n1', { availability: NodeAvailability.NODE_AVAILABILITY_DRAIN }),
      node('n2', { availability: NodeAvailability.NODE_AVAILABILITY_PAUSE }),
      node('n3', { state: NodeState.NODE_STATE_DOWN }),
    ];
    const p = [pending('w1')];
    const r = schedule({ nodes, tasks: p, pending: p }, NOW);
    assert.deepEqual(r.assignments, []);
    assert.deepEqual(r.unschedulable, [
      { taskId: 'w1', message: 'no suitable node (2 nodes not available for new tasks; 1 node not ready)' },
    ]);
  });

  it('uses the one active node left', () => {
    const nodes = [node('n1', { availability: NodeAvailability.NODE_AVAILABILITY_DRAIN }), node('n2')];
    const p = [pending('w1'), pending('w2', { slot: 2 })];
    assert.deepEqual(perNode(schedule({ nodes, tasks: p, pending: p }, NOW).assignments), { n2: 2 });
  });

  it('says only "no suitable node" when the cluster has no node', () => {
    const p = [pending('w1')];
    assert.deepEqual(schedule({ nodes: [], tasks: p, pending: p }, NOW).unschedulable, [{ taskId: 'w1', message: 'no suitable node' }]);
  });
});

describe('scheduler: resources', () => {
  it('accounts for assignments made earlier in the same call', () => {
    const nodes = [node('n1', { memGiB: 4 }), node('n2', { memGiB: 4 })];
    const p = [1, 2, 3].map((i) => pending(`w${i}`, { slot: i, ...reserving(4) }));
    const r = schedule({ nodes, tasks: p, pending: p }, NOW);
    assert.deepEqual(perNode(r.assignments), { n1: 1, n2: 1 });
    assert.deepEqual(r.unschedulable, [{ taskId: 'w3', message: 'no suitable node (2 nodes lack 4 GiB memory)' }]);
  });

  it('explains exhaustion per filter with counts, most common reason first', () => {
    const nodes = [
      node('n1', { availability: NodeAvailability.NODE_AVAILABILITY_DRAIN }),
      node('n2', { memGiB: 2 }),
      node('n3', { memGiB: 8 }),
      node('n4', { memGiB: 8, cpus: 1 }),
    ];
    const running = [task({ id: 'r1', nodeId: 'n3', ...reserving(6) })];
    const p = [pending('w1', reserving(4, 2))];
    const r = schedule({ nodes, tasks: [...running, ...p], pending: p }, NOW);
    assert.deepEqual(r.unschedulable, [{
      taskId: 'w1',
      message: 'no suitable node (2 nodes lack 4 GiB memory; 1 node not available for new tasks; 1 node lacks 2 CPUs)',
    }]);
  });

  it('frees the reservations of tasks that have stopped', () => {
    const stopped = task({ id: 'r1', nodeId: 'n1', state: TaskState.TASK_STATE_FAILED, ...reserving(16) });
    const p = [pending('w1', reserving(16))];
    assert.deepEqual(schedule({ nodes: [node('n1')], tasks: [stopped, ...p], pending: p }, NOW).assignments, [
      { taskId: 'w1', nodeId: 'n1' },
    ]);
  });

  it('formats amounts in human units', () => {
    assert.equal(formatBytes(4 * GiB), '4 GiB');
    assert.equal(formatBytes(1.5 * GiB), '1.5 GiB');
    assert.equal(formatBytes(512 * 1024 ** 2), '512 MiB');
    assert.equal(formatCpus(CPU), '1 CPU');
    assert.equal(formatCpus(2 * CPU), '2 CPUs');
    assert.equal(formatCpus(0.5 * CPU), '0.5 CPUs');
  });
});

describe('scheduler: placement constraints', () => {
  const nodes = [
    node('n1', { hostname: 'alpha', role: NodeRole.NODE_ROLE_MANAGER, labels: { zone: 'a' } }),
    node('n2', { hostname: 'beta', labels: { zone: 'b' } }),
    node('n3', { hostname: 'gamma' }),
  ];
  const placeOn = (...constraints: string[]): string[] => {
    const p = [1, 2, 3, 4, 5, 6].map((i) => pending(`w${i}`, { slot: i, spec: { placement: { constraints } } } as Partial<Task>));
    return [...new Set(schedule({ nodes, tasks: p, pending: p }, NOW).assignments.map((a) => a.nodeId))].sort();
  };

  it('node.hostname == and !=', () => {
    assert.deepEqual(placeOn('node.hostname==beta'), ['n2']);
    assert.deepEqual(placeOn('node.hostname!=beta'), ['n1', 'n3']);
  });
  it('node.id == and !=', () => {
    assert.deepEqual(placeOn('node.id==n3'), ['n3']);
    assert.deepEqual(placeOn('node.id!=n3'), ['n1', 'n2']);
  });
  it('node.role, case-insensitively', () => {
    assert.deepEqual(placeOn('node.role==Manager'), ['n1']);
    assert.deepEqual(placeOn('node.role != manager'), ['n2', 'n3']);
  });
  it('node.labels: == needs the label; != also matches nodes without it', () => {
    assert.deepEqual(placeOn('node.labels.zone==a'), ['n1']);
    assert.deepEqual(placeOn('node.labels.zone!=a'), ['n2', 'n3']);
    assert.deepEqual(placeOn('node.labels.zone!=a', 'node.role==worker', 'node.hostname!=gamma'), ['n2']);
  });
  it('explains unsatisfied constraints', () => {
    const p = [pending('w1', { spec: { placement: { constraints: ['node.labels.zone==c'] } } } as Partial<Task>)];
    assert.deepEqual(schedule({ nodes, tasks: p, pending: p }, NOW).unschedulable, [
      { taskId: 'w1', message: 'no suitable node (3 nodes do not satisfy the placement constraints)' },
    ]);
  });

  it('parseConstraints refuses bad syntax with one line that names the constraint', () => {
    assert.throws(() => parseConstraints(['node.hostname==a', 'node.foo=bar']), {
      message:
        'invalid constraint "node.foo=bar": expected <key>==<value> or <key>!=<value> ' +
        'with key node.id, node.hostname, node.role or node.labels.<name>',
    });
    assert.throws(() => parseConstraints(['engine.labels.x==1']), /invalid constraint "engine.labels.x==1": expected/);
    assert.throws(() => parseConstraints(['node.labels.==1']), /expected <key>==<value>/);
    assert.throws(() => parseConstraints(['node.hostname==']), { message: 'invalid constraint "node.hostname==": the value is empty' });
    assert.throws(() => parseConstraints(['node.role==boss']), { message: 'invalid constraint "node.role==boss": node.role must be manager or worker' });
    assert.deepEqual(parseConstraints([' node.labels.Zone != b ']).map((c) => [c.key, c.op, c.value]), [
      [{ kind: 'label', name: 'Zone' }, '!=', 'b'],
    ]);
  });
});

describe('scheduler: global tasks with a preset node', () => {
  it('checks only the preset node and keeps its node', () => {
    const p = [pending('g1', { nodeId: 'n2', serviceId: 'agent' })];
    const r = schedule({ nodes: [node('n1'), node('n2')], tasks: p, pending: p }, NOW);
    assert.deepEqual(r.assignments, [{ taskId: 'g1', nodeId: 'n2' }]);
  });

  it('says why its node cannot take it, or that the node is gone', () => {
    const p = [
      pending('g1', { nodeId: 'n2', serviceId: 'agent', ...reserving(32) }),
      pending('g2', { nodeId: 'n9', serviceId: 'agent' }),
    ];
    const r = schedule({ nodes: [node('n1'), node('n2')], tasks: p, pending: p }, NOW);
    assert.deepEqual(r.unschedulable, [
      { taskId: 'g1', message: 'no suitable node (1 node lacks 32 GiB memory)' },
      { taskId: 'g2', message: 'no suitable node (node n9 is not part of the cluster)' },
    ]);
  });

  it('places pinned tasks before flexible ones', () => {
    const p = [pending('w1', { serviceId: 'a', ...reserving(10) }), pending('g1', { serviceId: 'z', nodeId: 'n1', ...reserving(10) })];
    const r = schedule({ nodes: [node('n1'), node('n2')], tasks: p, pending: p }, NOW);
    assert.deepEqual(r.assignments, [{ taskId: 'g1', nodeId: 'n1' }, { taskId: 'w1', nodeId: 'n2' }]);
  });
});
