import type { NodeId } from '../core/types.js';

/**
 * A node-loop snapshot carries the members' addresses (which the core does not know)
 * beside the state machine's own bytes: [u32 BE header length][JSON header][app bytes].
 * This is what comes before the app bytes.
 */
export function nodeSnapshotHeader(members: Map<NodeId, string>): Buffer {
  const json = Buffer.from(JSON.stringify({ members: Object.fromEntries(members) }));
  const header = Buffer.allocUnsafe(4 + json.length);
  header.writeUInt32BE(json.length, 0);
  json.copy(header, 4);
  return header;
}

export function decodeNodeSnapshot(data: Uint8Array): { members: Map<NodeId, string>; app: Uint8Array } {
  if (data.length === 0) return { members: new Map(), app: data };
  const b = Buffer.from(data.buffer, data.byteOffset, data.length);
  const len = b.readUInt32BE(0);
  if (4 + len > b.length) throw new Error('raft snapshot: header runs past the end; the snapshot is damaged');
  const header = JSON.parse(b.subarray(4, 4 + len).toString('utf8')) as { members: Record<string, string> };
  return { members: new Map(Object.entries(header.members)), app: data.subarray(4 + len) };
}

/** Conf-change context: the member's address, so every node can dial it. */
export function encodeMemberContext(address: string): Uint8Array {
  return Buffer.from(JSON.stringify({ address }));
}

export function decodeMemberContext(ctx: Uint8Array | undefined): string | undefined {
  if (!ctx || ctx.length === 0) return undefined;
  try {
    return (JSON.parse(Buffer.from(ctx).toString('utf8')) as { address?: string }).address;
  } catch {
    return undefined;
  }
}
