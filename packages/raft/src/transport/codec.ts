import { RaftEntry, RaftMessage } from '@tswarm/api';
import type { Entry, Message, MessageType, SnapshotMetadata } from '../core/types.js';

/** Core message → wire message. Snapshot data is not included: it travels in chunks. */
export function toWire(m: Message): RaftMessage {
  return {
    type: m.type,
    from: m.from,
    to: m.to,
    term: m.term,
    logTerm: m.logTerm,
    index: m.index,
    entries: m.entries.map(entryToWire),
    commit: m.commit,
    reject: m.reject,
    rejectHint: m.rejectHint,
    context: m.context ?? EMPTY,
    hasContext: m.context !== undefined,
    commitOnly: m.commitOnly ?? false,
    snapshot: m.snapshot ? { index: m.snapshot.metadata.index, term: m.snapshot.metadata.term, confState: { ...m.snapshot.metadata.confState } } : undefined,
  };
}

/** Wire message → core message; `snapshotData` completes a 'snap' message after reassembly. */
export function fromWire(w: RaftMessage, snapshotData?: Uint8Array): Message {
  if (!WIRE_TYPES.has(w.type)) throw new Error(`raft transport: unknown message type "${w.type}"`);
  const m: Message = {
    type: w.type as MessageType,
    from: w.from,
    to: w.to,
    term: w.term,
    logTerm: w.logTerm,
    index: w.index,
    entries: w.entries.map(entryFromWire),
    commit: w.commit,
    reject: w.reject,
    rejectHint: w.rejectHint,
    commitOnly: w.commitOnly,
  };
  if (w.hasContext) m.context = w.context;
  if (w.snapshot && snapshotData) {
    const metadata: SnapshotMetadata = {
      index: w.snapshot.index,
      term: w.snapshot.term,
      confState: { voters: [...(w.snapshot.confState?.voters ?? [])], learners: [...(w.snapshot.confState?.learners ?? [])] },
    };
    m.snapshot = { metadata, data: snapshotData };
  }
  return m;
}

function entryToWire(e: Entry): RaftEntry {
  return { term: e.term, index: e.index, confChange: e.type === 'confChange', data: e.data };
}

function entryFromWire(e: RaftEntry): Entry {
  return { term: e.term, index: e.index, type: e.confChange ? 'confChange' : 'normal', data: e.data };
}

const EMPTY = new Uint8Array(0);

/** Only messages that may cross the network; local-only types ('hup', 'beat', …) are refused. */
const WIRE_TYPES = new Set<string>([
  'prop', 'app', 'appResp', 'vote', 'voteResp', 'preVote', 'preVoteResp', 'snap',
  'heartbeat', 'heartbeatResp', 'timeoutNow', 'transferLeader', 'readIndex', 'readIndexResp',
]);
