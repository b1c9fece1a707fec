// Force a new cluster: restart one member, from its own durable state, as the only member
// of its group — how a swarm that lost quorum for good is brought back (etcd's
// --force-new-cluster, swarmkit's `swarm init --force-new-cluster`).
//
// Like etcd, nothing is rewritten in place: configuration changes that remove every other
// member (and promote this one if it was a learner) are appended after the last entry this
// member holds, and the commit index is moved to the last of them. The node then starts as
// usual, applies them like any committed membership change (so the addresses, the
// transport's peers and a later snapshot all agree), and, being the only voter, elects itself.
//
// Unlike etcd, entries past this member's known commit index are kept, not discarded: the
// lost leader may have committed and acknowledged them without this member hearing of it
// yet (commit indexes travel late, and commit-only hard states are written lazily), and the
// lost managers can no longer tell. Keeping them loses fewer acknowledged writes; a write
// only the lost managers held is lost either way.
import { decodeConfChange, encodeConfChange } from '../core/confChange.js';
import type { ConfState, Entry, HardState, NodeId, Snapshot } from '../core/types.js';

export interface ForcedStart {
  /** What to append, durably, before the node starts (possibly nothing). */
  entries: Entry[];
  /** The hard state to save with them: commit covers every entry now in the log. */
  hardState: HardState;
  /** The recovered state with both applied: start the node from this. */
  recovered: { hardState: HardState; snapshot?: Snapshot; entries: Entry[] };
  /** The members removed from the configuration. */
  removed: NodeId[];
}

/** Refused: this member's state cannot become a one-member group. */
export class ForceNewClusterError extends Error {
  override name = 'ForceNewClusterError';
}

/** The configuration after the snapshot and every entry in the log, in order. */
export function lastConfState(snapshot: Snapshot | undefined, entries: readonly Entry[]): ConfState {
  const voters = new Set(snapshot?.metadata.confState.voters ?? []);
  const learners = new Set(snapshot?.metadata.confState.learners ?? []);
  for (const e of entries) {
    if (e.type !== 'confChange') continue;
    const cc = decodeConfChange(e.data);
    voters.delete(cc.nodeId);
    learners.delete(cc.nodeId);
    if (cc.type === 'addNode') voters.add(cc.nodeId);
    else if (cc.type === 'addLearner') learners.add(cc.nodeId);
  }
  return { voters: [...voters], learners: [...learners] };
}

/**
 * Plans a forced one-member restart of `self` from what its storage recovered. Pure: the
 * caller saves `entries` with `hardState` (synced) and starts the node from `recovered`.
 */
export function forceNewCluster(self: NodeId, recovered: { hardState: HardState; snapshot?: Snapshot; entries: Entry[] }): ForcedStart {
  const { hardState, snapshot, entries } = recovered;
  if (!snapshot && entries.length === 0) throw new ForceNewClusterError('this member has no raft log to start a new cluster from');
  const conf = lastConfState(snapshot, entries);
  const isVoter = conf.voters.includes(self);
  if (!isVoter && !conf.learners.includes(self)) {
    throw new ForceNewClusterError(`this member (${self}) was removed from its raft group; its data cannot start a new cluster`);
  }
  const changes = [
    ...(isVoter ? [] : [{ type: 'addNode' as const, nodeId: self }]),
    ...[...conf.voters, ...conf.learners].filter((id) => id !== self).sort().map((nodeId) => ({ type: 'removeNode' as const, nodeId })),
  ];
  const last = entries.at(-1) ?? { index: snapshot!.metadata.index, term: snapshot!.metadata.term };
  // The new entries' term: no lower than any entry before them (the log's terms never go
  // down) and no higher than the term this member has seen.
  const term = Math.max(hardState.term, last.term);
  const appended: Entry[] = changes.map((cc, i) => ({ term, index: last.index + 1 + i, type: 'confChange', data: encodeConfChange(cc) }));
  const hs: HardState = { term, vote: hardState.vote, commit: last.index + appended.length };
  return {
    entries: appended,
    hardState: hs,
    recovered: { hardState: hs, snapshot, entries: [...entries, ...appended] },
    removed: changes.filter((c) => c.type === 'removeNode').map((c) => c.nodeId),
  };
}
