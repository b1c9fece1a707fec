// Swarm-wide RPCs: inspect the cluster object (secrets removed) and join tokens.
import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import {
  NodeRole,
  type Cluster,
  type GetJoinTokenRequest,
  type GetJoinTokenResponse,
  type InspectSwarmRequest,
  type InspectSwarmResponse,
} from '@tswarm/api';
import { rotateJoinToken } from '@tswarm/ca';
import type { ReadTx, Versioned } from '@tswarm/store';
import { clusterTable } from '../tables.js';
import { touchedMeta, withVersion, type ControlContext } from './context.js';
import { failedPrecondition, invalidArgument } from './errors.js';

export function swarmRpcs(ctx: ControlContext) {
  const { deps } = ctx;

  async function inspectSwarm(_req: InspectSwarmRequest): Promise<InspectSwarmResponse> {
    return { cluster: redact(ctx.store.view((tx) => withVersion(theCluster(tx)))) };
  }

  async function getJoinToken(req: GetJoinTokenRequest): Promise<GetJoinTokenResponse> {
    const role = req.role;
    if (role !== NodeRole.NODE_ROLE_WORKER && role !== NodeRole.NODE_ROLE_MANAGER) {
      throw invalidArgument(`invalid role ${role}: join tokens exist for worker and manager`);
    }
    const field = role === NodeRole.NODE_ROLE_MANAGER ? 'manager' : 'worker';
    let token: string;
    if (!req.rotate) {
      token = ctx.store.view((tx) => theCluster(tx).object.joinTokens?.[field] ?? '');
    } else {
      // The old token stops granting anything as soon as this commits (CA checks the cluster object).
      const { result } = await ctx.write((tx) => {
        const cur = theCluster(tx);
        const old = cur.object.joinTokens?.[field];
        if (!old) throw failedPrecondition(`the swarm has no ${field} join token to rotate`);
        const next = rotateJoinToken(old, deps.randomBytes ?? cryptoRandomBytes);
        const cluster: Cluster = {
          ...structuredClone(cur.object),
          meta: touchedMeta(cur.object.meta, deps.nowMs()),
          joinTokens: { worker: '', manager: '', ...cur.object.joinTokens, [field]: next },
        };
        tx.update(clusterTable, cluster, cur.version);
        return next;
      });
      token = result;
      deps.logger.info('join token rotated', { role: field });
    }
    if (!token) throw failedPrecondition(`the swarm has no ${field} join token yet`);
    return { token, managerAddr: managerAddr() };
  }

  /** Where a joining node should dial: this manager's cluster address, else the leader's. */
  function managerAddr(): string {
    const members = deps.raft.members();
    const self = members.find((m) => m.id === deps.localNodeId());
    if (self?.addr) return self.addr;
    return members.find((m) => m.id === deps.raft.leader())?.addr ?? '';
  }

  return { inspectSwarm, getJoinToken };
}

/** The one cluster object; a manager without it has not finished `init` or `join`. */
function theCluster(tx: ReadTx): Versioned<Cluster> {
  const all = tx.list(clusterTable);
  if (all.length === 0) throw failedPrecondition('the swarm is not initialized yet on this manager (no cluster object); retry in a moment');
  // More than one would be a bug in init; the oldest is the one every node was told about.
  return all.reduce((a, b) => (a.createdIndex <= b.createdIndex ? a : b));
}

/**
 * The cluster as the API shows it: the CA key and the join tokens removed (tokens are
 * fetched one at a time with GetJoinToken, so they do not end up in `swarm inspect`
 * output that users paste into bug reports).
 */
export function redact(c: Cluster): Cluster {
  return {
    ...c,
    rootCa: c.rootCa && { ...c.rootCa, caKeyPem: '' },
    joinTokens: { worker: '', manager: '' },
  };
}

