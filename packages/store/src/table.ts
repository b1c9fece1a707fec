// Table definitions: a name, a codec and secondary indexes. A definition holds no data;
// the Store that registers it does. Define tables once at module level and share them
// between the code that registers them and the code that reads them.

/** Objects in a table are identified by a non-empty `id`, unique within the table. */
export interface StoredObject {
  readonly id: string;
}

/**
 * Turns objects into the bytes carried in Raft entries and snapshots, and back.
 * decode must be pure and deterministic: it runs on every replica at apply time.
 * For protobuf objects pass the generated message: `{ encode: (o) => Svc.encode(o).finish(), decode: Svc.decode }`.
 */
export interface Codec<T> {
  encode(obj: T): Uint8Array;
  decode(bytes: Uint8Array): T;
}

/** JSON codec for tests and simple tables (no Buffers, Maps, bigints or Dates). */
export function jsonCodec<T>(): Codec<T> {
  const enc = new TextEncoder();
  const dec = new TextDecoder('utf-8', { fatal: true });
  return {
    encode: (obj) => enc.encode(JSON.stringify(obj)),
    decode: (bytes) => JSON.parse(dec.decode(bytes)) as T,
  };
}

/** An index key: one value, several (multi-valued index), or none (object not indexed). */
export type IndexKey = string | readonly string[] | undefined;

export interface IndexDef<T> {
  readonly name: string;
  /** Must be pure and deterministic: it runs at apply time on every replica. */
  readonly key: (obj: T) => IndexKey;
  /** A unique index rejects a transaction that would put two objects under one key. */
  readonly unique: boolean;
}

/** An object as the store holds it: the object plus the store's metadata about it. */
export interface Versioned<T> {
  /** Deep-frozen: copy (e.g. `structuredClone` or spread) before changing it. */
  readonly object: T;
  /** Raft index of the entry that last wrote the object; 0 for one staged in a transaction. */
  readonly version: number;
  /**
   * Raft index of the entry that created it; 0 when unknown (restored from a snapshot:
   * StoreSnapshotObject has no field for it yet) or staged.
   */
  readonly createdIndex: number;
}

export class Table<T extends StoredObject> {
  private readonly defs = new Map<string, IndexDef<T>>();

  constructor(readonly name: string, readonly codec: Codec<T>) {
    if (!name) throw new Error('a store table needs a name');
  }

  /**
   * Declares a secondary index, e.g. `tasks.index('byNode', (t) => t.nodeId)`.
   * Declare before the table is registered with a store; chainable.
   */
  index(name: string, key: (obj: T) => IndexKey, opts: { unique?: boolean } = {}): this {
    if (this.defs.has(name)) throw new Error(`table ${this.name} already has an index named ${name}`);
    this.defs.set(name, { name, key, unique: opts.unique ?? false });
    return this;
  }

  get indexes(): ReadonlyMap<string, IndexDef<T>> {
    return this.defs;
  }

  indexDef(name: string): IndexDef<T> {
    const def = this.defs.get(name);
    if (!def) {
      throw new Error(`table ${this.name} has no index "${name}" (has: ${[...this.defs.keys()].join(', ') || 'none'})`);
    }
    return def;
  }
}

/** Shorthand for `new Table<T>(name, codec)`. */
export function defineTable<T extends StoredObject>(name: string, codec: Codec<T>): Table<T> {
  return new Table<T>(name, codec);
}

/** The keys of `obj` in an index, de-duplicated, empty strings dropped. */
export function indexKeys<T>(def: IndexDef<T>, obj: T): string[] {
  const k = def.key(obj);
  if (k === undefined || k === '') return [];
  if (typeof k === 'string') return [k];
  return [...new Set(k)].filter((s) => s !== '');
}

/**
 * A copy of `bytes` in memory of its own, for a row that outlives the buffer it came from.
 * A Buffer, so that protobuf bytes fields decoded from it are Buffers (views into it) on every
 * path; not `bytes.slice()`, which on a Buffer is a view, and not `Buffer.from`, whose small
 * copies share 8-KB pool slabs that one long-lived row would keep alive.
 */
export function ownCopy(bytes: Uint8Array): Buffer {
  const out = Buffer.allocUnsafeSlow(bytes.length);
  out.set(bytes);
  return out;
}

/**
 * Freezes an object graph so readers cannot change the store under each other.
 * Typed arrays cannot be frozen (and protobuf bytes fields are Buffers); they are left
 * as they are — treat them as read-only.
 */
export function deepFreeze<T>(value: T): T {
  if (value === null || typeof value !== 'object' || Object.isFrozen(value)) return value;
  if (ArrayBuffer.isView(value)) return value;
  Object.freeze(value);
  for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  return value;
}
