import type { Logger } from '@tswarm/api';
import type { Store, Watcher } from '@tswarm/store';
import type { LeaderRole } from './manager.js';
import { planRoleChanges, recordManager, recordWorker, RoleChange, RoleMember } from './node-roles.js';
import { nodesTable } from './tables.js';

/**
 * Raft membership changes do not show up in the store, so besides reacting to node
 * changes the reconciler looks again this often (a joiner's promotion to voter, a
 * member that became reachable).
 */
export const ROLE_RECHECK_MS = 1_000;
/**
 * After asking Raft to hand leadership over, wait this long before asking again: a
 * transfer takes about one election timeout, and this leader stops being leader (and
 * stops this role) when it succeeds.
 */
export const TRANSFER_RETRY_MS = 5_000;

export interface RoleReconcilerDeps {
  store: Store;
  raft: {
    localId: string;
    members(): RoleMember[];
    removeMember(id: string): Promise<void>;
    transferLeadership(to: string): void;
  };
  nowMs(): number;
  logger: Logger;
}

/**
 * The leader's side of `node promote` / `node demote` (see node-roles.ts): demoted members
 * leave Raft (the leader hands over leadership first), and node.role / managerStatus
 * follow Raft membership. Runs on the Raft leader only; one pass at a time.
 */
export class RoleReconciler implements LeaderRole {
  private watcher: Watcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private dirty = false;
  private stopped = true;
  private lastTransferAtMs = -Infinity;
  /** The reason last logged per blocked node, so a blocked demotion is logged once. */
  private readonly blocked = new Map<string, string>();

  constructor(private readonly d: RoleReconcilerDeps) {}

  start(): void {
    this.stopped = false;
    this.watcher = this.d.store.watch({ tables: [nodesTable] });
    void this.follow(this.watcher);
    this.timer = setInterval(() => this.kick(), ROLE_RECHECK_MS);
    this.kick();
  }

  stop(): void {
    this.stopped = true;
    this.watcher?.close();
    this.watcher = undefined;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.blocked.clear();
  }

  private async follow(w: Watcher): Promise<void> {
    try {
      for await (const _ev of w) this.kick();
    } catch {
      // Lagged or closed: the periodic pass reads everything anyway; re-watch if still on.
      if (!this.stopped && this.watcher === w) {
        this.watcher = this.d.store.watch({ tables: [nodesTable] });
        void this.follow(this.watcher);
      }
    }
  }

  private kick(): void {
    if (this.stopped) return;
    if (this.running) {
      this.dirty = true;
      return;
    }
    this.running = true;
    void this.loop();
  }

  private async loop(): Promise<void> {
    try {
      do {
        this.dirty = false;
        const nodes = this.d.store.view((tx) => tx.list(nodesTable).map((r) => r.object));
        for (const change of planRoleChanges(nodes, this.d.raft.members(), this.d.raft.localId)) {
          if (this.stopped) return;
          await this.apply(change);
        }
      } while (this.dirty && !this.stopped);
    } finally {
      this.running = false;
    }
  }

  private async apply(c: RoleChange): Promise<void> {
    const now = this.d.nowMs();
    try {
      switch (c.kind) {
        case 'transfer':
          if (now - this.lastTransferAtMs < TRANSFER_RETRY_MS) return;
          this.lastTransferAtMs = now;
          this.d.logger.info('demoting the raft leader: handing leadership over first', { node: c.nodeId, to: c.to });
          this.d.raft.transferLeadership(c.to);
          return;
        case 'remove':
          this.d.logger.info('demoting a manager: removing it from the raft group', { node: c.nodeId });
          await this.d.raft.removeMember(c.nodeId);
          await recordWorker(this.d.store, c.nodeId, now);
          this.d.logger.info('manager demoted to worker', { node: c.nodeId });
          return;
        case 'record-worker':
          await recordWorker(this.d.store, c.nodeId, now);
          return;
        case 'record-manager':
          await recordManager(this.d.store, c.nodeId, c.addr, now);
          this.d.logger.info('node is now a manager', { node: c.nodeId, addr: c.addr });
          return;
        case 'blocked':
          if (this.blocked.get(c.nodeId) !== c.reason) this.d.logger.warn('cannot demote node yet', { node: c.nodeId, reason: c.reason });
          this.blocked.set(c.nodeId, c.reason);
          return;
      }
    } catch (e) {
      // Lost leadership or a proposal timeout: the next pass (here or on the next leader) retries.
      if (!this.stopped) this.d.logger.warn('role change failed; will retry', { change: c.kind, node: c.nodeId, error: (e as Error).message });
    }
  }
}
