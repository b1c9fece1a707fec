// ReadIndex linearizable reads (thesis §6.4), leader side.
//  1. The leader must have committed an entry of its term (its no-op), so its
//     commit index is at least that of any earlier leader. Until then,
//     requests wait in pendingReadIndexMessages.
//  2. It records readIndex = commit and sends a heartbeat round carrying the
//     request's ctx; a quorum of acks proves it was still leader.
//  3. The read is answered as a ReadState (local) or 'readIndexResp'
//     (forwarded by a follower); the host serves it once applied >= index.

import type { Raft } from './raft.js';
import { bcastHeartbeat } from './replication.js';
import { NONE } from './types.js';
import type { Message } from './types.js';
import { newMessage } from './util.js';

export function stepLeaderReadIndex(r: Raft, m: Message): void {
  if (r.trk.isSingleton()) {
    // Sole voter: nobody else can be leader, commit is current.
    respondToReadIndex(r, m, r.raftLog.committed);
    return;
  }
  if (!r.committedEntryInCurrentTerm()) {
    r.pendingReadIndexMessages.push(m);
    return;
  }
  startReadIndex(r, m);
}

function startReadIndex(r: Raft, m: Message): void {
  r.readOnly.addRequest(r.raftLog.committed, m);
  // The leader acks itself.
  r.readOnly.recvAck(r.id, m.context);
  bcastHeartbeat(r, m.context);
}

/** Called once an entry of the leader's term commits. */
export function releasePendingReadIndexMessages(r: Raft): void {
  if (r.pendingReadIndexMessages.length === 0) return;
  if (!r.committedEntryInCurrentTerm()) return;
  const msgs = r.pendingReadIndexMessages;
  r.pendingReadIndexMessages = [];
  for (const m of msgs) startReadIndex(r, m);
}

/** A heartbeat answer carrying ctx: serve every request confirmed by it. */
export function handleReadIndexAck(r: Raft, from: string, ctx: Uint8Array | undefined): void {
  if (!ctx || ctx.byteLength === 0) return;
  const acks = r.readOnly.recvAck(from, ctx);
  if (!acks || !r.trk.hasQuorum(acks)) return;
  for (const rs of r.readOnly.advance(ctx)) respondToReadIndex(r, rs.req, rs.index);
}

function respondToReadIndex(r: Raft, req: Message, index: number): void {
  if (req.from === NONE || req.from === r.id) {
    r.readStates.push({ index, requestCtx: req.context ?? new Uint8Array(0) });
    return;
  }
  r.send(newMessage('readIndexResp', { to: req.from, index, context: req.context }));
}
