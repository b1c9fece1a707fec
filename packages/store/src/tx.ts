// Building one transaction: writes are staged over a RowSource (the committed state, or
// an outer transaction in a batch) so the callback reads its own writes. Several writes
// to one object collapse into the single action that has the same effect, so a
// transaction carries at most one action per object (two for delete-then-create).
//
// Checks here use local, possibly stale state and exist to fail fast with a good
// message; apply.ts repeats every check against the replicated state.
import { StoreAction, StoreAction_Kind } from '@tswarm/api';
import { AlreadyExistsError, InvalidObjectError, NotFoundError, VersionConflictError } from './errors.js';
import { SourceReader, type AnyTable, type ReadTx, type Row, type RowSource } from './state.js';
import { deepFreeze, indexKeys, type StoredObject, type Table } from './table.js';

/** What update()/batch() callbacks receive. */
export interface WriteTx extends ReadTx {
  /** Fails if the id exists (AlreadyExistsError) — here, and again at apply time. */
  create<T extends StoredObject>(table: Table<T>, obj: T): void;
  /** `expectedVersion` is the `version` you read; a stale one rejects the transaction. */
  update<T extends StoredObject>(table: Table<T>, obj: T, expectedVersion: number): void;
  /** Without `expectedVersion` (or with 0) the delete is unconditional. */
  delete<T extends StoredObject>(table: Table<T>, id: string, expectedVersion?: number): void;
}

/** Staged effect on one object. `expected` is the committed version the transaction read. */
type Staged =
  | { kind: 'create'; row: Row }
  | { kind: 'update'; expected: number; row: Row }
  | { kind: 'delete'; expected: number }
  | { kind: 'replace'; expected: number; row: Row }; // delete the committed object, then create

interface Entry {
  readonly table: string;
  readonly id: string;
  staged: Staged;
}

/**
 * Upper bound of protobuf framing per action (tags, length varints, kind, a uint64
 * version): 6 + 2 + 6 + 6 + 11 + 6 = 37, rounded up. Lets batch() bound sizes without
 * encoding the transaction after every unit.
 */
const ACTION_FRAMING_BYTES = 40;

/** Staged writes over a base source; itself a RowSource so overlays can nest. */
export class Overlay implements RowSource {
  /** Keyed by table + NUL + id; insertion order is the order actions are emitted. */
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly base: RowSource) {}

  get version(): number {
    return this.base.version;
  }

  tableDef(name: string) {
    return this.base.tableDef(name);
  }

  row(table: string, id: string): Row | undefined {
    const e = this.entries.get(key(table, id));
    if (!e) return this.base.row(table, id);
    return e.staged.kind === 'delete' ? undefined : e.staged.row;
  }

  *rows(table: string): Iterable<Row> {
    for (const r of this.base.rows(table)) {
      if (!this.entries.has(key(table, (r.object as StoredObject).id))) yield r;
    }
    for (const e of this.entries.values()) {
      if (e.table === table && e.staged.kind !== 'delete') yield e.staged.row;
    }
  }

  *findIds(table: string, index: string, k: string): Iterable<string> {
    for (const id of this.base.findIds(table, index, k)) {
      if (!this.entries.has(key(table, id))) yield id;
    }
    const def = this.tableDef(table).indexDef(index);
    for (const e of this.entries.values()) {
      if (e.table !== table || e.staged.kind === 'delete') continue;
      if (indexKeys(def, e.staged.row.object).includes(k)) yield e.id;
    }
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Folds one more write to an object into what is already staged for it, keeping the
   * version the transaction first read. Callers have checked that the write is legal
   * against row(); the impossible pairs (e.g. update after delete) cannot reach here.
   */
  merge(table: string, id: string, next: Staged): void {
    const k = key(table, id);
    const e = this.entries.get(k);
    const merged = e ? combine(e.staged, next) : next;
    if (!merged) this.entries.delete(k);
    else if (e) e.staged = merged;
    else this.entries.set(k, { table, id, staged: merged });
  }

  /** The wire actions, in first-touch order. */
  actions(): StoreAction[] {
    const out: StoreAction[] = [];
    for (const { table, id, staged: s } of this.entries.values()) {
      if (s.kind === 'delete' || s.kind === 'replace') out.push(action(StoreAction_Kind.KIND_DELETE, table, id, s.expected));
      if (s.kind === 'create' || s.kind === 'replace') out.push(action(StoreAction_Kind.KIND_CREATE, table, id, 0, s.row.bytes));
      if (s.kind === 'update') out.push(action(StoreAction_Kind.KIND_UPDATE, table, id, s.expected, s.row.bytes));
    }
    return out;
  }

  /** Action count and an upper bound of the encoded size, without encoding. */
  measure(): { actions: number; bytes: number } {
    let actions = 0;
    let bytes = 0;
    for (const { table, id, staged: s } of this.entries.values()) {
      const n = s.kind === 'replace' ? 2 : 1;
      actions += n;
      bytes += n * (ACTION_FRAMING_BYTES + table.length * 3 + id.length * 3); // UTF-8 ≤ 3 bytes per UTF-16 unit
      if (s.kind !== 'delete') bytes += s.row.bytes.length;
    }
    return { actions, bytes };
  }

  /** Folds every write of `inner` (an overlay over this one) into this overlay. */
  absorb(inner: Overlay): void {
    for (const e of inner.entries.values()) this.merge(e.table, e.id, e.staged);
  }
}

/** The WriteTx handed to callbacks: typed checks and encoding over an Overlay. */
export class TxBuilder extends SourceReader implements WriteTx {
  private sealed = false;

  constructor(readonly overlay: Overlay) {
    super(overlay);
  }

  /** After the callback returns: later writes are a bug (a missing await), so they throw. */
  seal(): void {
    this.sealed = true;
  }

  create<T extends StoredObject>(table: Table<T>, obj: T): void {
    const name = this.writable(table);
    const row = encodeRow(table, obj, 0, 0);
    if (this.overlay.row(name, obj.id)) throw new AlreadyExistsError(name, obj.id);
    this.overlay.merge(name, obj.id, { kind: 'create', row });
  }

  update<T extends StoredObject>(table: Table<T>, obj: T, expectedVersion: number): void {
    const name = this.writable(table);
    if (!Number.isSafeInteger(expectedVersion) || expectedVersion < 0) {
      throw new Error(`${name}/${obj.id}: update needs the version you read (Versioned.version), got ${expectedVersion}`);
    }
    const cur = this.current(name, obj.id, expectedVersion, false);
    const row = encodeRow(table, obj, cur.version, cur.createdIndex);
    this.overlay.merge(name, obj.id, { kind: 'update', expected: expectedVersion, row });
  }

  delete<T extends StoredObject>(table: Table<T>, id: string, expectedVersion = 0): void {
    const name = this.writable(table);
    this.current(name, id, expectedVersion, true);
    this.overlay.merge(name, id, { kind: 'delete', expected: expectedVersion });
  }

  private writable(table: AnyTable): string {
    if (this.sealed) {
      throw new Error('store transaction already finished: a write after the callback returned (missing await?)');
    }
    return this.checked(table);
  }

  /**
   * The object as this transaction sees it. Versions must match, except a delete with
   * expected 0 (unconditional). Objects created in this transaction read as version 0.
   */
  private current(name: string, id: string, expected: number, zeroMeansAny: boolean): Row {
    const cur = this.overlay.row(name, id);
    if (!cur) throw new NotFoundError(name, id);
    if (zeroMeansAny && expected === 0) return cur;
    if (cur.version !== expected) throw new VersionConflictError(name, id, expected, cur.version);
    return cur;
  }
}

/**
 * `a` then `b` on one object, as one staged effect; undefined = no effect at all.
 * `expected` always comes from the first write: it is the committed version the
 * transaction depends on. Rows from `b` win: they are the latest content.
 */
function combine(a: Staged, b: Staged): Staged | undefined {
  switch (b.kind) {
    case 'create': // the object is absent, so `a` is a delete
      return a.kind === 'delete' ? { kind: 'replace', expected: a.expected, row: b.row } : b;
    case 'update':
    case 'replace':
      if (a.kind === 'create') return { kind: 'create', row: b.row };
      if (a.kind === 'update' || a.kind === 'replace') {
        return { kind: b.kind === 'replace' ? 'replace' : a.kind, expected: a.expected, row: b.row };
      }
      return b; // unreachable: nothing to update after a delete
    case 'delete':
      if (a.kind === 'create') return undefined; // never existed outside this transaction
      if (a.kind === 'update' || a.kind === 'replace') return { kind: 'delete', expected: a.expected };
      return b; // unreachable: nothing to delete after a delete
  }
}

/** Encodes `obj` and decodes it back, so staged reads see exactly what will commit. */
function encodeRow<T extends StoredObject>(table: Table<T>, obj: T, version: number, createdIndex: number): Row {
  if (typeof obj.id !== 'string' || obj.id === '') {
    throw new InvalidObjectError(table.name, '', 'objects need a non-empty string id');
  }
  const bytes = table.codec.encode(obj);
  const object = deepFreeze(table.codec.decode(bytes));
  if (object.id !== obj.id) {
    throw new InvalidObjectError(table.name, obj.id, `codec round trip changed the id to "${object.id}"`);
  }
  return { object, bytes, version, createdIndex };
}

function action(kind: StoreAction_Kind, table: string, id: string, expectedVersion: number, object?: Uint8Array): StoreAction {
  const buf = object ? Buffer.from(object.buffer, object.byteOffset, object.byteLength) : Buffer.alloc(0);
  return { kind, table, id, expectedVersion, object: buf };
}

function key(table: string, id: string): string {
  return `${table}\u0000${id}`;
}
