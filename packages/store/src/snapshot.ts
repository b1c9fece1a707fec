// Whole-store snapshots (StoreSnapshot). The bytes are a pure function of the replicated
// state: tables sorted by name, objects by id, object bytes exactly as committed (no
// re-encoding), so two replicas at the same version produce identical snapshots.
import { BinaryWriter, StoreSnapshot, StoreSnapshotObject, StoreSnapshotTable } from '@tswarm/api';
import { DuplicateKeyError, InvalidObjectError, UnknownTableError } from './errors.js';
import { StoreState, type AnyTable, type Row } from './state.js';
import { deepFreeze, indexKeys, ownCopy, type StoredObject } from './table.js';

/**
 * Objects encoded per slice when a snapshot is encoded in the background: ≈ 2 ms of work
 * here, so the event loop is never held longer than that (the whole store encoded at once
 * held it 230–340 ms at 30,000 objects under load, measured).
 */
const SLICE_OBJECTS = 2_000;
/** Tag of `tables` in StoreSnapshot and of `objects` in StoreSnapshotTable: field 2, length-delimited. */
const FIELD_2_LEN = (2 << 3) | 2;

/** The state as it was at one version: tables by name, each table's rows in no order yet. */
interface View {
  readonly version: number;
  readonly tables: ReadonlyArray<{ readonly name: string; readonly rows: Array<[string, Row]> }>;
}

/** Copies references only: rows are immutable (frozen objects, bytes never written). */
function capture(state: StoreState): View {
  return {
    version: state.version,
    tables: [...state.tables.keys()].sort(compare).map((name) => ({ name, rows: [...state.tables.get(name)!.rows] })),
  };
}

/**
 * StoreSnapshot's bytes, exactly as `StoreSnapshot.encode` writes them, pausing (yield) after
 * each sort and every SLICE_OBJECTS objects. The framing of the repeated fields is the
 * generated encoders' own (`uint32(tag).fork()` … `join()`); a test holds the two byte-equal.
 */
function* encodeView(view: View): Generator<void, Uint8Array> {
  const w = new BinaryWriter();
  StoreSnapshot.encode({ version: view.version, tables: [] }, w);
  for (const t of view.tables) {
    t.rows.sort((a, b) => compare(a[0], b[0]));
    yield;
    StoreSnapshotTable.encode({ name: t.name, objects: [] }, w.uint32(FIELD_2_LEN).fork());
    for (let i = 0; i < t.rows.length; i++) {
      const [id, r] = t.rows[i]!;
      const object = Buffer.from(r.bytes.buffer, r.bytes.byteOffset, r.bytes.byteLength);
      StoreSnapshotObject.encode({ id, version: r.version, createdIndex: r.createdIndex, object }, w.uint32(FIELD_2_LEN).fork()).join();
      if ((i + 1) % SLICE_OBJECTS === 0) yield;
    }
    w.join();
  }
  return w.finish();
}

export function encodeSnapshot(state: StoreState): Uint8Array {
  const steps = encodeView(capture(state));
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * The state as it is now, encoded later a slice per turn of the event loop: the returned
 * function resolves with the bytes `encodeSnapshot` would have given at this moment, however
 * the store changes meanwhile.
 */
export function captureSnapshot(state: StoreState): () => Promise<Uint8Array> {
  const steps = encodeView(capture(state));
  return async () => {
    for (;;) {
      const step = steps.next();
      if (step.done) return step.value;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  };
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
