// What the host (the manager's composition root) hands the dispatcher, and what it may
// expect back. The dispatcher keeps no clock, timers or randomness of its own (STYLE 1):
// everything time- or chance-dependent comes through these deps, so tests drive it.
//
// Where it runs: on the Raft LEADER only, as in swarmkit. The host registers service()
// once on the cluster port, start()s the Dispatcher when this manager becomes leader and
// stop()s it when leadership is lost (it is a LeaderRole; start/stop may alternate for
// the manager's lifetime). stop() ends every stream with UNAVAILABLE so agents reconnect
// to the new leader. While stopped — a follower — every RPC answers UNAVAILABLE
// "not the leader; the leader is <addr>" (addr from deps.leaderAddr, also in the trailers
// under LEADER_HINT_KEY), and the agent reconnects to that address, or the next it knows.
import type { Logger } from '@tswarm/api';
import type { Store } from '@tswarm/store';

/** Defaults (Swarm's: 5 s, 3 misses) are cluster-init.ts's DEFAULT_HEARTBEAT_*. */
export interface DispatcherConfig {
  /** How often agents heartbeat. The cluster object's spec.heartbeatPeriodMs wins when set (> 0). */
  heartbeatPeriodMs?: number;
  /** Missed periods before a node is DOWN. The cluster object's spec.heartbeatMisses wins when set (> 0). */
  heartbeatMisses?: number;
}

/** A manager agents may reconnect to (SessionMessage.managers). */
export interface ManagerPeer {
  nodeId: string;
  /** host:port of its cluster listener. */
  addr: string;
}

/** An opaque timer handle from setTimer, only ever passed back to clearTimer. */
export type TimerHandle = unknown;

export interface DispatcherDeps {
  /** The replicated store; the dispatcher writes only through it (one owner per write path). */
  store: Store;
  /** Wall-clock milliseconds; used for heartbeat deadlines and status timestamps. */
  nowMs(): number;
  /** Runs `fn` once after `ms` milliseconds. */
  setTimer(fn: () => void, ms: number): TimerHandle;
  clearTimer(handle: TimerHandle): void;
  /** Uniform in [0, 1); spreads heartbeat periods so agents do not synchronize. */
  rng(): number;
  /** A fresh, unguessable session id (crypto.randomUUID in production). */
  newSessionId(): string;
  config?: DispatcherConfig;
  /**
   * The managers agents should know about, read on every SessionMessage. When the set
   * changes the host calls Dispatcher.managersChanged(); the heartbeat sweep also
   * compares it, so a missed call costs at most one sweep of delay.
   */
  managers(): ManagerPeer[];
  logger: Logger;
  /**
   * The calling node's ID, from its mTLS certificate (in production: peerIdentity(call)
   * of @tswarm/ca, requiring a node certificate). Throws a StatusError (UNAUTHENTICATED /
   * PERMISSION_DENIED) to refuse the call. Tests pass a fake reading a metadata header.
   */
  identify(call: unknown): string;
  /** The current leader's cluster address, if known, for the UNAVAILABLE answer of a follower. */
  leaderAddr?(): string | undefined;
}

/** The real clock and timers, for the composition root. Cores never call these directly. */
export const systemTimers: Pick<DispatcherDeps, 'nowMs' | 'setTimer' | 'clearTimer'> = {
  nowMs: () => Date.now(),
  setTimer: (fn, ms) => {
    const t = setTimeout(fn, ms);
    t.unref?.(); // a pending sweep or flush must not keep the process alive on shutdown
    return t;
  },
  clearTimer: (h) => clearTimeout(h as NodeJS.Timeout),
};
