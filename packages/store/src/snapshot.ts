// Whole-store snapshots (StoreSnapshot). The bytes are a pure function of the replicated
// state: tables sorted by name, objects by id, object bytes exactly as committed (no
// re-encoding), so two replicas at the same version produce identical snapshots.
import { StoreSnapshot, type StoreSnapshotTable } from '@tswarm/api';
import { DuplicateKeyError, InvalidObjectError, UnknownTableError } from './errors.js';
import { StoreState, type AnyTable } from './state.js';
import { deepFreeze, indexKeys, ownCopy, type StoredObject } from './table.js';

export function encodeSnapshot(state: StoreState): Uint8Array {
  const tables: StoreSnapshotTable[] = [];
  for (const name of [...state.tables.keys()].sort(compare)) {
    const rows = state.tables.get(name)!.rows;
    const objects = [...rows.keys()].sort(compare).map((id) => {
      const r = rows.get(id)!;
      return { id, version: r.version, createdIndex: r.createdIndex, object: Buffer.from(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength) };
    });
    tables.push({ name, objects });
  }
  return StoreSnapshot.encode({ version: state.version, tables }).finish();
}

/**
 * Builds a fresh state from snapshot bytes; throws (leaving the caller's state alone)
 * if the snapshot names a table this build does not know — dropping it would lose
 * data silently — or if its objects do not decode.
 */
export function decodeSnapshot(bytes: Uint8Array, defs: readonly AnyTable[]): StoreState {
  const snap = StoreSnapshot.decode(bytes);
  const state = new StoreState(defs);
  state.version = snap.version;
  for (const t of snap.tables) {
    const table = state.tables.get(t.name);
    if (!table) throw new UnknownTableError(t.name, [...state.tables.keys()]);
    for (const o of t.objects) {
      const bytes = ownCopy(o.object); // as apply.ts decodeRow: nothing may keep the snapshot alive
      let object: StoredObject;
      try {
        object = table.def.codec.decode(bytes) as StoredObject;
      } catch (err) {
        throw new InvalidObjectError(t.name, o.id, `snapshot object does not decode: ${(err as Error).message}`);
      }
      if (object?.id !== o.id) throw new InvalidObjectError(t.name, o.id, `snapshot object has id "${object?.id}"`);
      table.put(o.id, { object: deepFreeze(object), bytes, version: o.version, createdIndex: o.createdIndex });
    }
    checkUnique(t.name, table.def, table.rows);
  }
  return state;
}

/** A snapshot is trusted less than the applier: re-check unique indexes on load. */
function checkUnique(name: string, def: AnyTable, rows: ReadonlyMap<string, { object: unknown }>): void {
  for (const idx of def.indexes.values()) {
    if (!idx.unique) continue;
    const seen = new Map<string, string>();
    for (const [id, r] of rows) {
      for (const k of indexKeys(idx, r.object)) {
        const other = seen.get(k);
        if (other !== undefined) throw new DuplicateKeyError(name, idx.name, k, id, other);
        seen.set(k, id);
      }
    }
  }
}

/** Code-unit order: the same on every machine, unlike localeCompare. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
