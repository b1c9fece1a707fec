// Whole-store snapshots (StoreSnapshot). The bytes are a pure function of the replicated
// history: tables sorted by name, each table's objects in the table's own order, object bytes
// exactly as committed (no re-encoding). A table's order is its apply order, the same on every
// replica: all apply the same entries, and a restore inserts in the snapshot's order. So two
// replicas at the same version produce identical snapshots.
//
// Encoded for speed at tens of megabytes, measured here (150,000 objects, 45 MB): the objects
// are not sorted (sorting the ids held the loop 26–150 ms), and the bytes are written once,
// by hand, into one buffer of the final size: the generated encoder's buffer, then copies of it
// with the headers around it, each took 150–200 ms of first touches of new memory.
import { StoreSnapshot } from '@tswarm/api';
import { DuplicateKeyError, InvalidObjectError, UnknownTableError } from './errors.js';
import { StoreState, type AnyTable, type Row } from './state.js';
import { deepFreeze, indexKeys, ownCopy, type StoredObject } from './table.js';
import { lenFieldBytes, messageFieldBytes, uintFieldBytes, WireWriter } from './wire.js';

/**
 * Objects measured or written per slice when a snapshot is encoded in the background, so the
 * event loop is never held long (≈ 4 ms each here, most of it first touches of the new buffer).
 */
const SLICE_OBJECTS = 1_000;

/** A snapshot of the state as it was at capture, encoded later a slice per turn. */
export interface SnapshotCapture {
  /** The encoding's length in bytes. */
  size(): Promise<number>;
  /** Writes the encoding into `out`, which must be exactly size() bytes long. */
  writeInto(out: Uint8Array): Promise<void>;
}

/** One table as it was at one version, and the length of its encoding once measured. */
interface TableView {
  readonly name: string;
  readonly ids: readonly string[];
  readonly rows: readonly Row[];
  bytes: number;
}

interface View {
  readonly version: number;
  readonly tables: readonly TableView[];
}

// Field numbers (proto/tswarm/v1/store.proto).
const SNAPSHOT = { version: 1, tables: 2 } as const;
const TABLE = { name: 1, objects: 2 } as const;
const OBJECT = { id: 1, version: 2, object: 3, createdIndex: 4 } as const;

/** Copies references only: rows are immutable (frozen objects, bytes never written). */
function capture(state: StoreState): View {
  return {
    version: state.version,
    tables: [...state.tables.keys()].sort(compare).map((name) => {
      const rows = state.tables.get(name)!.rows;
      return { name, ids: [...rows.keys()], rows: [...rows.values()], bytes: 0 };
    }),
  };
}

/** An object's encoded length; `idBytes` is its id's UTF-8 length, which the writer needs too. */
function objectBytes(idBytes: number, r: Row): number {
  return lenFieldBytes(idBytes) + uintFieldBytes(r.version) + lenFieldBytes(r.bytes.length) + uintFieldBytes(r.createdIndex);
}

/** The encoding's length; records each table's. Pauses (yield) every SLICE_OBJECTS objects. */
function* measure(view: View): Generator<void, number> {
  let total = uintFieldBytes(view.version);
  for (const t of view.tables) {
    let bytes = lenFieldBytes(Buffer.byteLength(t.name));
    for (let i = 0; i < t.ids.length; i++) {
      bytes += messageFieldBytes(objectBytes(Buffer.byteLength(t.ids[i]!), t.rows[i]!));
      if ((i + 1) % SLICE_OBJECTS === 0) yield;
    }
    t.bytes = bytes;
    total += messageFieldBytes(bytes);
  }
  return total;
}

/** Writes a measured view, exactly as `StoreSnapshot.encode` would; pauses as measure(). */
function* write(view: View, out: Uint8Array): Generator<void, void> {
  const w = new WireWriter(out);
  w.uint(SNAPSHOT.version, view.version);
  for (const t of view.tables) {
    w.messageHeader(SNAPSHOT.tables, t.bytes);
    w.string(TABLE.name, t.name, Buffer.byteLength(t.name));
    for (let i = 0; i < t.ids.length; i++) {
      const id = t.ids[i]!;
      const r = t.rows[i]!;
      const idBytes = Buffer.byteLength(id);
      w.messageHeader(TABLE.objects, objectBytes(idBytes, r));
      w.string(OBJECT.id, id, idBytes);
      w.uint(OBJECT.version, r.version);
      w.bytes(OBJECT.object, r.bytes);
      w.uint(OBJECT.createdIndex, r.createdIndex);
      if ((i + 1) % SLICE_OBJECTS === 0) yield;
    }
  }
  if (w.written !== out.length) throw new Error(`store snapshot: wrote ${w.written} bytes into a buffer of ${out.length}; measure() and write() disagree`);
}

export function encodeSnapshot(state: StoreState): Uint8Array {
  const view = capture(state);
  const out = Buffer.allocUnsafe(runToEnd(measure(view)));
  runToEnd(write(view, out));
  return out;
}

/**
 * The state as it is now, encoded later a slice per turn of the event loop: the bytes written
 * are those `encodeSnapshot` would have given at this moment, however the store changes
 * meanwhile. The caller allocates the buffer (so it can put its own headers around them).
 */
export function captureSnapshot(state: StoreState): SnapshotCapture {
  const view = capture(state);
  let size: number | undefined;
  return {
    size: async () => (size ??= await inSlices(measure(view))),
    writeInto: async (out) => {
      if (out.length !== size) throw new Error(`store snapshot: writeInto needs a buffer of size() bytes (${size ?? 'not measured yet'}), got ${out.length}`);
      await inSlices(write(view, out));
    },
  };
}

function runToEnd<T>(steps: Generator<void, T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

async function inSlices<T>(steps: Generator<void, T>): Promise<T> {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
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
