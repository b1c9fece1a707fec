import { Logger, silentLogger } from '@tswarm/api';
import type { NodeId } from '../core/types.js';
import type { Transport, TransportHandlers } from '../transport/transport.js';
import type { RaftStorage, RecoveredState } from '../storage/raft-storage.js';
import type { StateMachine } from './state-machine.js';

export interface RaftNodeOptions {
  id: NodeId;
  /** Durable storage, already opened; `recovered` is what opening it returned. */
  storage: RaftStorage;
  recovered: Pick<RecoveredState, 'hardState' | 'snapshot' | 'entries'>;
  stateMachine: StateMachine;
  /** Builds the transport once the node can receive; the node adds and removes peers. */
  transport: (handlers: TransportHandlers) => Transport;
  /** A brand-new group's voters and their addresses; ignored when storage holds state. */
  bootstrap?: Record<NodeId, string>;
  /** Addresses to dial before membership is known from the log (a manager that is joining). */
  peers?: Record<NodeId, string>;
  tickMs?: number;
  electionTicks?: number;
  heartbeatTicks?: number;
  snapshotInterval?: number;
  keepEntriesAfterSnapshot?: number;
  proposalTimeoutMs?: number;
  maxSizePerMsgBytes?: number;
  maxInflightMsgs?: number;
  maxUncommittedEntriesBytes?: number;
  /**
   * The leader's log writes run beside its loop (core Config.leaderWritesAsync); default true.
   * False makes the leader wait for each Ready's write before stepping anything else, as
   * every other member does.
   */
  leaderWritesAsync?: boolean;
  rng?: () => number;
  nowMs?: () => number;
  logger?: Logger;
}

/**
 * Swarm ticks once a second with an election timeout of 10 ticks; we keep its shape
 * (10 ticks to elect, 1 to heartbeat) on a 100 ms tick so a leader loss is noticed in
 * 1–2 s and a new leader elected within 3 s, as users expect of a control plane.
 */
export const DEFAULT_TICK_MS = 100;
export const DEFAULT_ELECTION_TICKS = 10;
export const DEFAULT_HEARTBEAT_TICKS = 1;
/**
 * A snapshot every 100,000 entries (etcd 3.4's default; swarmkit uses 10,000), keeping 500 for
 * slow followers. Taking a snapshot encodes the whole store on the event loop, so a short
 * interval turns into periodic stalls under heavy writes; 100k entries of log cost tens of MB.
 */
export const DEFAULT_SNAPSHOT_INTERVAL = 100_000;
export const DEFAULT_KEEP_ENTRIES = 500;
export const DEFAULT_PROPOSAL_TIMEOUT_MS = 10_000;
/** 1 MiB per append message and 256 in flight: enough to pipeline a busy leader. */
export const DEFAULT_MAX_SIZE_PER_MSG = 1 << 20;
export const DEFAULT_MAX_INFLIGHT = 256;
/** Proposals beyond 64 MiB uncommitted are dropped: quorum is likely lost, memory must not grow. */
export const DEFAULT_MAX_UNCOMMITTED = 64 << 20;

export type Resolved = Required<Omit<RaftNodeOptions, 'bootstrap' | 'peers'>> & { bootstrap?: Record<NodeId, string>; peers?: Record<NodeId, string> };

export function withDefaults(o: RaftNodeOptions): Resolved {
  return {
    tickMs: DEFAULT_TICK_MS,
    electionTicks: DEFAULT_ELECTION_TICKS,
    heartbeatTicks: DEFAULT_HEARTBEAT_TICKS,
    snapshotInterval: DEFAULT_SNAPSHOT_INTERVAL,
    keepEntriesAfterSnapshot: DEFAULT_KEEP_ENTRIES,
    proposalTimeoutMs: DEFAULT_PROPOSAL_TIMEOUT_MS,
    maxSizePerMsgBytes: DEFAULT_MAX_SIZE_PER_MSG,
    maxInflightMsgs: DEFAULT_MAX_INFLIGHT,
    maxUncommittedEntriesBytes: DEFAULT_MAX_UNCOMMITTED,
    leaderWritesAsync: true,
    rng: Math.random,
    nowMs: () => performance.now(),
    logger: silentLogger,
    // Options given as undefined keep their defaults.
    ...(Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as RaftNodeOptions),
  };
}
