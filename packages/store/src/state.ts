// The replicated data: rows per table and their secondary indexes. Only the applier
// (apply.ts, snapshot.ts via Store) writes it; everything else reads through RowSource.
import { UnknownTableError } from './errors.js';
import { indexKeys, type StoredObject, type Table, type Versioned } from './table.js';

/** A stored object with its encoded bytes, kept so snapshots need no re-encoding. */
export interface Row<T = unknown> extends Versioned<T> {
  /** Exactly the bytes that were committed; the object is `codec.decode(bytes)`, frozen. */
  readonly bytes: Uint8Array;
}

// Tables are registered with different T; the state stores them side by side.
export type AnyTable = Table<any>;

/** Read access shared by committed state and transactions (which overlay staged writes). */
export interface RowSource {
  /** Raft index of the last applied entry under this source. */
  readonly version: number;
  tableDef(name: string): AnyTable;
  row(table: string, id: string): Row | undefined;
  rows(table: string): Iterable<Row>;
  /** Ids whose object has `key` in `index`. */
  findIds(table: string, index: string, key: string): Iterable<string>;
}

export class TableState {
  /** id → row. Iteration order is apply order (deterministic on every replica). */
  readonly rows = new Map<string, Row>();
  /** index name → key → ids. Invariant: mirrors indexKeys(def, row.object) for every row. */
  private readonly byIndex = new Map<string, Map<string, Set<string>>>();

  constructor(readonly def: AnyTable) {
    for (const name of def.indexes.keys()) this.byIndex.set(name, new Map());
  }

  put(id: string, row: Row): void {
    const old = this.rows.get(id);
    if (old) this.unindex(id, old);
    this.rows.set(id, row);
    for (const [name, def] of this.def.indexes) {
      const keys = this.byIndex.get(name)!;
      for (const k of indexKeys(def, row.object)) {
        let ids = keys.get(k);
        if (!ids) keys.set(k, (ids = new Set()));
        ids.add(id);
      }
    }
  }

  remove(id: string): void {
    const old = this.rows.get(id);
    if (!old) return;
    this.unindex(id, old);
    this.rows.delete(id);
  }

  ids(index: string, key: string): ReadonlySet<string> {
    this.def.indexDef(index); // throws a helpful error for an unknown index name
    return this.byIndex.get(index)!.get(key) ?? EMPTY;
  }

  private unindex(id: string, row: Row): void {
    for (const [name, def] of this.def.indexes) {
      const keys = this.byIndex.get(name)!;
      for (const k of indexKeys(def, row.object)) {
        const ids = keys.get(k);
        if (!ids) continue;
        ids.delete(id);
        if (ids.size === 0) keys.delete(k);
      }
    }
  }
}

const EMPTY: ReadonlySet<string> = new Set();

export class StoreState implements RowSource {
  /** Raft index of the last entry applied or advanced over. */
  version = 0;
  readonly tables = new Map<string, TableState>();

  constructor(defs: readonly AnyTable[]) {
    for (const def of defs) {
      if (this.tables.has(def.name)) throw new Error(`store table "${def.name}" registered twice`);
      this.tables.set(def.name, new TableState(def));
    }
  }

  table(name: string): TableState {
    const t = this.tables.get(name);
    if (!t) throw new UnknownTableError(name, [...this.tables.keys()]);
    return t;
  }

  tableDef(name: string): AnyTable {
    return this.table(name).def;
  }

  row(table: string, id: string): Row | undefined {
    return this.table(table).rows.get(id);
  }

  rows(table: string): Iterable<Row> {
    return this.table(table).rows.values();
  }

  findIds(table: string, index: string, key: string): Iterable<string> {
    return this.table(table).ids(index, key);
  }
}

/** The typed read API handed to view() and, with writes added, to update(). */
export interface ReadTx {
  /** The store version this read reflects (the applied index when the read began). */
  readonly version: number;
  get<T extends StoredObject>(table: Table<T>, id: string): Versioned<T> | undefined;
  /** All objects of a table, in no particular order. */
  list<T extends StoredObject>(table: Table<T>): Versioned<T>[];
  /** Objects whose `index` key is (or includes) `key`, in no particular order. */
  find<T extends StoredObject>(table: Table<T>, index: string, key: string): Versioned<T>[];
}

/** A ReadTx over any RowSource; rows are returned without their bytes. */
export class SourceReader implements ReadTx {
  constructor(protected readonly source: RowSource) {}

  get version(): number {
    return this.source.version;
  }

  get<T extends StoredObject>(table: Table<T>, id: string): Versioned<T> | undefined {
    return strip(this.source.row(this.checked(table), id)) as Versioned<T> | undefined;
  }

  list<T extends StoredObject>(table: Table<T>): Versioned<T>[] {
    const out: Versioned<T>[] = [];
    for (const r of this.source.rows(this.checked(table))) out.push(strip(r) as Versioned<T>);
    return out;
  }

  find<T extends StoredObject>(table: Table<T>, index: string, key: string): Versioned<T>[] {
    const name = this.checked(table);
    const out: Versioned<T>[] = [];
    for (const id of this.source.findIds(name, index, key)) {
      const r = this.source.row(name, id);
      if (r) out.push(strip(r) as Versioned<T>);
    }
    return out;
  }

  /** The table handle must be the one registered (not just a same-named one). */
  protected checked(table: AnyTable): string {
    if (this.source.tableDef(table.name) !== table) {
      throw new Error(`table "${table.name}" passed to the store is not the definition it was registered with`);
    }
    return table.name;
  }
}

function strip(r: Row | undefined): Versioned<unknown> | undefined {
  return r && { object: r.object, version: r.version, createdIndex: r.createdIndex };
}
