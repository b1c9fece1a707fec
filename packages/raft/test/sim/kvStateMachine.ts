// The replicated state machine each simulated node runs: a string map with
// at-most-once puts. Every command carries (clientId, requestId); a client has
// one request outstanding at a time and its ids only grow, so "apply only if
// requestId > last applied for this client" removes duplicates created by
// message duplication or proposal retries.

export interface PutCommand {
  clientId: number;
  requestId: number;
  key: string;
  value: string;
}

const enc = new TextEncoder();
const dec = new TextDecoder();

export function encodePut(c: PutCommand): Uint8Array {
  return enc.encode(JSON.stringify([c.clientId, c.requestId, c.key, c.value]));
}

export function decodePut(data: Uint8Array): PutCommand {
  const [clientId, requestId, key, value] = JSON.parse(dec.decode(data)) as [number, number, string, string];
  return { clientId, requestId, key, value };
}

/** Read contexts name the client request, so a ReadState can be matched to its caller. */
export function encodeReadCtx(clientId: number, requestId: number): Uint8Array {
  return enc.encode(`${clientId}/${requestId}`);
}

export function decodeReadCtx(ctx: Uint8Array): string {
  return dec.decode(ctx);
}

export class KvStateMachine {
  private data = new Map<string, string>();
  /** clientId → highest requestId applied. */
  private lastRequest = new Map<number, number>();

  get(key: string): string {
    return this.data.get(key) ?? '';
  }

  /** Applies a put; returns false if it was a duplicate and changed nothing. */
  apply(c: PutCommand): boolean {
    if ((this.lastRequest.get(c.clientId) ?? -1) >= c.requestId) return false;
    this.lastRequest.set(c.clientId, c.requestId);
    this.data.set(c.key, c.value);
    return true;
  }

  /** Deterministic serialization (sorted keys), so equal states give equal bytes. */
  snapshot(): Uint8Array {
    const data = [...this.data].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const last = [...this.lastRequest].sort(([a], [b]) => a - b);
    return enc.encode(JSON.stringify({ data, last }));
  }

  static restore(bytes: Uint8Array): KvStateMachine {
    const kv = new KvStateMachine();
    if (bytes.byteLength === 0) return kv;
    const { data, last } = JSON.parse(dec.decode(bytes)) as { data: [string, string][]; last: [number, number][] };
    kv.data = new Map(data);
    kv.lastRequest = new Map(last);
    return kv;
  }
}
