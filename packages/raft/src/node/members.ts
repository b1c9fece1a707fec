import { encodeConfChange } from '../core/confChange.js';
import type { ConfChange, ConfState, Entry, NodeId } from '../core/types.js';
import { decodeMemberContext, encodeMemberContext } from './snapshot-codec.js';

/** What an applied membership change means for the transport. */
export type PeerChange = { kind: 'add'; id: NodeId; address: string } | { kind: 'remove'; id: NodeId } | { kind: 'none' };

/**
 * The node loop's view of membership: member ID → cluster address (which the core does
 * not know), which members are learners, and callers waiting for a change to apply.
 * Owned by the node loop; every change arrives through `applied` or `restore`.
 */
export class Members {
  private readonly addresses = new Map<NodeId, string>();
  private readonly learners = new Set<NodeId>();
  private readonly waiting = new Map<string, Array<{ resolve(): void; reject(e: Error): void }>>();

  get(id: NodeId): string | undefined {
    return this.addresses.get(id);
  }

  has(id: NodeId): boolean {
    return this.addresses.has(id);
  }

  entries(): Array<[NodeId, string]> {
    return [...this.addresses];
  }

  isLearner(id: NodeId): boolean {
    return this.learners.has(id);
  }

  confState(): ConfState {
    return { voters: [...this.addresses.keys()].filter((m) => !this.learners.has(m)), learners: [...this.learners] };
  }

  /** The address map, for the node-loop snapshot header. */
  snapshotMap(): Map<NodeId, string> {
    return this.addresses;
  }

  /** Resolves/rejects when a change of this type for this node is applied. */
  wait(cc: ConfChange, w: { resolve(): void; reject(e: Error): void }): void {
    const key = `${cc.type}:${cc.nodeId}`;
    this.waiting.set(key, [...(this.waiting.get(key) ?? []), w]);
  }

  /** Records an applied change (the core's resulting ConfState given) and wakes its waiters. */
  applied(cc: ConfChange, cs: ConfState): PeerChange {
    this.learners.clear();
    for (const l of cs.learners) this.learners.add(l);
    let change: PeerChange = { kind: 'none' };
    if (cc.type === 'removeNode') {
      this.addresses.delete(cc.nodeId);
      change = { kind: 'remove', id: cc.nodeId };
    } else {
      const address = decodeMemberContext(cc.context) ?? this.addresses.get(cc.nodeId);
      if (address !== undefined) {
        this.addresses.set(cc.nodeId, address);
        change = { kind: 'add', id: cc.nodeId, address };
      }
    }
    const key = `${cc.type}:${cc.nodeId}`;
    for (const w of this.waiting.get(key) ?? []) w.resolve();
    this.waiting.delete(key);
    return change;
  }

  /** Replaces everything with a snapshot's view. */
  restore(addresses: Map<NodeId, string>, learners: readonly NodeId[]): void {
    this.addresses.clear();
    for (const [id, addr] of addresses) this.addresses.set(id, addr);
    this.learners.clear();
    for (const l of learners) this.learners.add(l);
  }
}

/**
 * A new group's first entries: one committed addNode per initial member, carrying its
 * address, so a restart rebuilds membership (and addresses) by replaying the log.
 */
export function bootstrapEntries(members: Record<NodeId, string>): Entry[] {
  return Object.entries(members).map(([id, address], i) => ({
    term: 1, index: i + 1, type: 'confChange' as const,
    data: encodeConfChange({ type: 'addNode', nodeId: id, context: encodeMemberContext(address) }),
  }));
}
