import type { Entry, Message, MessageType } from './types.js';

/** Approximate payload size of an entry, used for all byte limits. */
export function entrySize(e: Entry): number {
  return e.data.byteLength + 16;
}

export function entriesSize(ents: readonly Entry[]): number {
  let n = 0;
  for (const e of ents) n += entrySize(e);
  return n;
}

/**
 * Returns the longest prefix of ents whose total size is <= maxBytes, but
 * always at least one entry. Returns ents itself (no copy) when it all fits.
 */
export function limitSize(ents: Entry[], maxBytes: number): Entry[] {
  if (ents.length === 0) return ents;
  let size = entrySize(ents[0]);
  let n = 1;
  for (; n < ents.length; n++) {
    size += entrySize(ents[n]);
    if (size > maxBytes) break;
  }
  return n === ents.length ? ents : ents.slice(0, n);
}

/** Sum of entry payload bytes, for the uncommitted-log bound (an empty no-op costs 0). */
export function payloadSize(ents: readonly Entry[]): number {
  let n = 0;
  for (const e of ents) n += e.data.byteLength;
  return n;
}

/** Stable string key for a ReadIndex request context. */
export function ctxKey(ctx: Uint8Array | undefined): string {
  if (!ctx || ctx.byteLength === 0) return '';
  return Buffer.from(ctx.buffer, ctx.byteOffset, ctx.byteLength).toString('latin1');
}

export function bytesEqual(a: Uint8Array | undefined, b: Uint8Array | undefined): boolean {
  const la = a ? a.byteLength : 0;
  const lb = b ? b.byteLength : 0;
  if (la !== lb) return false;
  for (let i = 0; i < la; i++) if (a![i] !== b![i]) return false;
  return true;
}

const EMPTY_ENTRIES: Entry[] = [];
Object.freeze(EMPTY_ENTRIES);

/** A message with defaults for every field not given. */
export function newMessage(type: MessageType, fields: Partial<Message> = {}): Message {
  return {
    type,
    from: fields.from ?? '',
    to: fields.to ?? '',
    term: fields.term ?? 0,
    logTerm: fields.logTerm ?? 0,
    index: fields.index ?? 0,
    entries: fields.entries ?? EMPTY_ENTRIES,
    commit: fields.commit ?? 0,
    reject: fields.reject ?? false,
    rejectHint: fields.rejectHint ?? 0,
    snapshot: fields.snapshot,
    context: fields.context,
    commitOnly: fields.commitOnly ?? false,
  };
}
