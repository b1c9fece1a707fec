// What the store must say after `swarm init --force-new-cluster`: the managers the forced
// restart removed from Raft are workers now, as if demoted. Their node objects stay (their
// hosts may still run tasks, and `node rm` removes them once they are down); a lost manager's
// host comes back with `swarm leave --force` and a new join.
import { NodeRole } from '@tswarm/api';
import { retryOnConflict, type Store } from '@tswarm/store';
import { nodesTable } from './tables.js';

/**
 * Attempts at the write below: the node objects are also written by the dispatcher (status)
 * and the allocator (ingress addresses) in the moments after the restart, so a version check
 * may fail; the write re-reads and applies again.
 */
const DEMOTE_ATTEMPTS = 10;

/** Records every node in `removed` as a worker that is meant to stay one. One transaction. */
export async function demoteRemovedManagers(store: Store, removed: readonly string[], nowMs: number): Promise<void> {
  if (removed.length === 0) return;
  await retryOnConflict(DEMOTE_ATTEMPTS, () => writeDemotions(store, removed, nowMs));
}

async function writeDemotions(store: Store, removed: readonly string[], nowMs: number): Promise<void> {
  await store.update((tx) => {
    for (const id of removed) {
      const cur = tx.get(nodesTable, id);
      if (!cur) continue;
      const n = structuredClone(cur.object);
      tx.update(nodesTable, {
        ...n,
        spec: { ...n.spec!, desiredRole: NodeRole.NODE_ROLE_WORKER },
        role: NodeRole.NODE_ROLE_WORKER,
        managerStatus: undefined,
        meta: { version: 0, createdAtMs: n.meta?.createdAtMs ?? nowMs, updatedAtMs: nowMs },
      }, cur.version);
    }
  });
}
