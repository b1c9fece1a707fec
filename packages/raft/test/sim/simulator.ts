// One deterministic simulation run: N real Raft cores on a virtual clock and
// a faulty network, KV clients, a fault injector and a membership operator,
// all driven by one seed. Phases:
//
//   1. faulty (durationMs): every enabled fault, safety checked on each event;
//   2. calm (CALM_MS): partitions healed, crashed nodes restarted, no loss —
//      some put issued after the heal must be acknowledged (liveness), in runs
//      with pre-vote, which is how tswarm runs Raft. Without it Raft promises
//      no liveness once membership views diverge: a member whose log stopped
//      before a configuration change can keep winning nothing and raising the
//      term, so the member that could win never gets its vote (the disruptive
//      server of Ongaro's thesis §9.6; seed 2680 with clock drift shows it).
//      Such runs still check every safety property and linearizability;
//   3. verdict: the client history must be linearizable.
//
// Everything random comes from the seed through forked streams (network,
// faults, clients, each node's Raft rng), so one seed is one schedule.

import { Client } from './clients.js';
import { EventQueue } from './eventQueue.js';
import { ALL_FAULTS, FaultInjector, type FaultToggles } from './faults.js';
import { SafetyChecker, SafetyViolation } from './invariants.js';
import { kvModel, type KvOperation } from './kvModel.js';
import { checkOperations, explain } from './linearizability.js';
import { MembershipOperator } from './membership.js';
import { DEFAULT_RATES, Network } from './network.js';
import { Rng } from './rng.js';
import { SimDisk } from './simDisk.js';
import { SimNode, type NodeEnv } from './simNode.js';
import { Trace } from './trace.js';
import { WalDisk } from './walDisk.js';
import type { Message } from '../../src/core/types.js';

export interface SimOptions {
  seed: number;
  nodes: number;
  /** Length of the faulty phase, in base ticks (BASE_TICK_MS each). */
  steps: number;
  faults: FaultToggles;
  /** The deliberately broken build: leaders answer gets from local state. */
  unsafeLocalReads: boolean;
  verbose: boolean;
  clients: number;
  keys: number;
  /** Checker budget; past it the verdict is 'unknown' (reported, not failed). */
  checkerMaxSteps: number;
  /** 'wal': the real WAL (src/storage MemoryDisk); 'model': the simulator's entry-level disk model. */
  disk: 'wal' | 'model';
}

export const DEFAULT_OPTIONS: SimOptions = {
  seed: 1,
  nodes: 3,
  steps: 1500,
  faults: ALL_FAULTS,
  unsafeLocalReads: false,
  verbose: false,
  clients: 4,
  keys: 3,
  checkerMaxSteps: 2_000_000,
  disk: 'wal',
};

/** Virtual milliseconds per tick of a node with no drift. */
export const BASE_TICK_MS = 10;
/** Calm phase: long enough for several election timeouts and a round of commits. */
const CALM_MS = 4000;
const ELECTION_TICK = 10;
const HEARTBEAT_TICK = 2;

export interface SimStats {
  events: number;
  messages: number;
  dropped: number;
  ops: number;
  pendingPuts: number;
  leaderTerms: number;
  committed: number;
  /** Highest index applied anywhere when the faulty phase ended: progress under faults. */
  committedUnderFaults: number;
  crashes: number;
  partitions: number;
  confChanges: number;
  snapshotsInstalled: number;
  /** Leader writes synced after the node moved on (leaderWritesAsync seeds), and those a crash cut short. */
  leaderWritesBeside: number;
  leaderWritesLost: number;
  checkerSteps: number;
  config: string;
}

export interface SimResult {
  seed: number;
  ok: boolean;
  /** Which check failed: an invariant name, 'linearizability', 'liveness' or 'core threw'. */
  failure?: string;
  detail?: string;
  /** 'unknown' when the checker ran out of budget (not counted as a failure). */
  linearizable: 'ok' | 'illegal' | 'unknown' | 'not checked';
  traceHash: string;
  trace: string[];
  stats: SimStats;
}

export function runSimulation(partial: Partial<SimOptions> & { seed: number }): SimResult {
  const o: SimOptions = { ...DEFAULT_OPTIONS, ...partial, faults: { ...ALL_FAULTS, ...partial.faults } };
  const root = new Rng(o.seed);
  const q = new EventQueue();
  const trace = new Trace(o.verbose);
  const safety = new SafetyChecker();
  const history: KvOperation[] = [];
  const raftRng = root.fork();
  const raft = { electionTick: ELECTION_TICK, heartbeatTick: HEARTBEAT_TICK, checkQuorum: raftRng.chance(0.5), preVote: raftRng.chance(0.5), leaderWritesAsync: false };
  const maxGapMs = raftRng.pick([500, 1200, 2500]);
  // Half the seeds run leaders whose writes complete beside their loop, as RaftNode's do.
  raft.leaderWritesAsync = raftRng.chance(0.5);
  const faultsEnd = o.steps * BASE_TICK_MS;
  const endMs = faultsEnd + CALM_MS;
  const ids = Array.from({ length: o.nodes }, (_, i) => `n${i + 1}`);
  let operator: MembershipOperator | null = null;
  let committedUnderFaults = 0;

  const nodes: SimNode[] = [];
  const byId = new Map<string, SimNode>();
  const network = new Network(q, root.fork(), trace, o.faults, DEFAULT_RATES, {
    deliver(m) {
      const to = byId.get(m.to);
      if (!to || !to.up) return this.dropped(m);
      to.receive(cloneMessage(m));
      if (m.type === 'snap') byId.get(m.from)?.reportSnapshot(m.to, true);
    },
    dropped(m) {
      // Deferred: the sender may be inside its own Ready loop right now.
      if (m.type === 'snap') q.after(0, () => byId.get(m.from)?.reportSnapshot(m.to, false));
    },
  });
  const env: NodeEnv = {
    nowMs: () => q.nowMs,
    later: (delayMs, run) => q.after(delayMs, run),
    send: (m) => network.send(m),
    trace,
    safety,
    raft,
    snapshotEvery: 40,
    compactLag: 10,
    onConfChange: (id, cc, index) => {
      trace.note(q.nowMs, `cc${id}:${index}`, () => `${id} applies ${cc.type} ${cc.nodeId} at ${index}`);
      operator?.onApplied(cc);
    },
  };
  const nodeRng = root.fork();
  for (const id of ids) {
    const n = new SimNode(id, ids, env, nodeRng.fork(), o.disk === 'wal' ? new WalDisk() : new SimDisk());
    nodes.push(n);
    byId.set(id, n);
  }

  // Each node ticks on its own drifting clock.
  const tickRng = root.fork();
  for (const n of nodes) {
    const drift = o.faults.drift ? 1 + (tickRng.next() * 0.6 - 0.3) : 1;
    const periodMs = Math.max(1, Math.round(BASE_TICK_MS * drift));
    const offsetMs = tickRng.int(0, periodMs - 1);
    const tick = (): void => {
      n.tick();
      q.after(periodMs, tick);
    };
    q.at(offsetMs, tick);
  }

  const faults = new FaultInjector({ q, rng: root.fork(), trace, network, nodes, toggles: o.faults, stopMs: faultsEnd,
    maxGapMs });
  const clientRng = root.fork();
  const clientEnv = {
    q, trace, nodes, history,
    keys: Array.from({ length: o.keys }, (_, i) => `k${i}`),
    unsafeLocalReads: o.unsafeLocalReads,
    timeoutMs: 1000,
    maxThinkMs: 40,
    readRatio: 0.5,
  };
  const clients = Array.from({ length: o.clients }, (_, i) => new Client(i, clientEnv, clientRng.fork()));
  const opRng = root.fork();
  if (o.faults.membership) operator = new MembershipOperator({ q, rng: opRng, trace, nodes });

  const stats = (checkerSteps = 0): SimStats => ({
    events: trace.events,
    messages: network.sent,
    dropped: network.dropped,
    ops: history.length,
    pendingPuts: history.filter((h) => h.return === Infinity).length,
    leaderTerms: safety.leaderTerms,
    committed: safety.appliedIndex,
    committedUnderFaults,
    crashes: faults.crashes,
    partitions: faults.partitions,
    confChanges: operator?.applied ?? 0,
    snapshotsInstalled: nodes.reduce((n, x) => n + x.snapshotsInstalled, 0),
    leaderWritesBeside: nodes.reduce((n, x) => n + x.leaderWritesBeside, 0),
    leaderWritesLost: nodes.reduce((n, x) => n + x.leaderWritesLost, 0),
    checkerSteps,
    config: `nodes=${o.nodes} disk=${o.disk} checkQuorum=${raft.checkQuorum} preVote=${raft.preVote} leaderWritesAsync=${raft.leaderWritesAsync} maxFaultGapMs=${maxGapMs}`,
  });
  const fail = (failure: string, detail: string): SimResult => ({
    seed: o.seed, ok: false, failure, detail, linearizable: 'not checked',
    traceHash: trace.hash(), trace: trace.lines, stats: stats(),
  });

  try {
    for (const n of nodes) n.start();
    faults.start();
    operator?.start();
    for (const c of clients) c.start();
    q.at(faultsEnd, () => {
      committedUnderFaults = safety.appliedIndex;
      network.healAll();
      network.calm = true;
      faults.restartAll();
      operator?.restoreOnly();
      trace.note(q.nowMs, 'calm', () => 'heal everything: calm phase begins');
    });
    while (q.runNext(endMs)) {
      // all work happens in the events
    }
    for (const c of clients) c.stop();
  } catch (err) {
    if (err instanceof SafetyViolation) return fail(err.invariant, err.message);
    return fail('core threw', err instanceof Error ? (err.stack ?? err.message) : String(err));
  }

  const lastAck = Math.max(...clients.map((c) => (c.lastPutOkCallMs >= faultsEnd ? c.lastPutOkMs : -1)));
  if (lastAck < 0 && raft.preVote) {
    return fail('liveness', `no put issued after the heal at ${faultsEnd}ms was acknowledged by ${endMs}ms`);
  }

  const report = checkOperations(kvModel, history, { maxSteps: o.checkerMaxSteps });
  const result: SimResult = {
    seed: o.seed, ok: report.result !== 'illegal', linearizable: report.result,
    traceHash: trace.hash(), trace: trace.lines, stats: stats(report.steps),
  };
  if (report.result === 'illegal') {
    result.failure = 'linearizability';
    result.detail = explain(kvModel, report);
  }
  return result;
}

/** Messages cross a wire: the receiver must not share objects with the sender. */
function cloneMessage(m: Message): Message {
  return { ...m, entries: m.entries.map((e) => ({ ...e })) };
}
