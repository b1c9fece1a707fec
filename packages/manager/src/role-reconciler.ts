import type { Logger } from '@tswarm/api';
import type { Store } from '@tswarm/store';
import { ReconcileDriver } from './reconcile-driver.js';
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
  private lastTransferAtMs = -Infinity;
  /** The reason last logged per blocked node, so a blocked demotion is logged once. */
  private readonly blocked = new Map<string, string>();
  private readonly driver: ReconcileDriver;

  constructor(private readonly d: RoleReconcilerDeps) {
    this.driver = new ReconcileDriver({
      store: d.store, tables: [nodesTable], periodMs: ROLE_RECHECK_MS, pass: () => this.pass(), logger: d.logger, name: 'role reconciler',
    });
  }

  start(): void {
    this.driver.start();
  }

  stop(): void {
    this.driver.stop();
    this.blocked.clear();
  }

  private async pass(): Promise<void> {
    const nodes = this.d.store.view((tx) => tx.list(nodesTable).map((r) => r.object));
    for (const change of planRoleChanges(nodes, this.d.raft.members(), this.d.raft.localId)) {
      if (!this.driver.active) return;
      await this.apply(change);
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
      if (this.driver.active) this.d.logger.warn('role change failed; will retry', { change: c.kind, node: c.nodeId, error: (e as Error).message });
    }
  }
}
