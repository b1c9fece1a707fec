// Applying one committed StoreTransaction. This is the only code that decides whether a
// transaction takes effect, and it must decide the same on every replica: it reads only
// the entry, its index and the replicated state — no clock, no local configuration,
// nothing from the node that proposed it.
//
// All-or-nothing: actions are checked one by one against a staging map layered over
// the state; the first failure throws and the state has not been touched. Only when
// every action and every unique index passes are the staged rows written.
import { StoreAction_Kind, type StoreAction, type StoreTransaction } from '@tswarm/api';
import {
  AlreadyExistsError,
  DuplicateKeyError,
  InvalidObjectError,
  NotFoundError,
  VersionConflictError,
} from './errors.js';
import type { Row, StoreState, TableState } from './state.js';
import { deepFreeze, indexKeys, ownCopy, type StoredObject } from './table.js';
import type { StoreEvent } from './watch.js';

/** table → id → new row, or null for deleted. Map order = order of first touch. */
type Staging = Map<string, Map<string, Row | null>>;

/**
 * Validates and applies `tx` at `index`. Returns the events it produced (in action
 * order, all with version = index). Throws a StoreError, with `state` unchanged, when
 * the transaction is rejected. The caller moves `state.version` in both cases.
 */
export function applyTransaction(state: StoreState, index: number, tx: StoreTransaction): StoreEvent[] {
  const staging: Staging = new Map();
  const events: StoreEvent[] = [];
  for (const a of tx.actions) {
    const table = state.table(a.table); // UnknownTableError rejects the transaction
    let changes = staging.get(a.table);
    if (!changes) staging.set(a.table, (changes = new Map()));
    const cur = changes.has(a.id) ? changes.get(a.id) ?? undefined : table.rows.get(a.id);
    switch (a.kind) {
      case StoreAction_Kind.KIND_CREATE: {
        if (cur) throw new AlreadyExistsError(a.table, a.id);
        const row = decodeRow(table, a, index, index);
        changes.set(a.id, row);
        events.push(event('create', a, row.object, undefined, index));
        break;
      }
      case StoreAction_Kind.KIND_UPDATE: {
        checkVersion(a, cur, false);
        const row = decodeRow(table, a, index, cur!.createdIndex);
        changes.set(a.id, row);
        events.push(event('update', a, row.object, cur!.object, index));
        break;
      }
      case StoreAction_Kind.KIND_DELETE: {
        checkVersion(a, cur, true);
        changes.set(a.id, null);
        events.push(event('delete', a, cur!.object, undefined, index));
        break;
      }
      default:
        throw new InvalidObjectError(a.table, a.id, `unknown store action kind ${a.kind} (written by a newer tswarm?)`);
    }
  }
  checkIndexes(state, staging);
  for (const [name, changes] of staging) {
    const table = state.table(name);
    for (const [id, row] of changes) {
      if (row) table.put(id, row);
      else table.remove(id);
    }
  }
  return events;
}

function checkVersion(a: StoreAction, cur: Row | undefined, isDelete: boolean): void {
  if (!cur) throw new NotFoundError(a.table, a.id);
  // A delete with expected version 0 is unconditional; an update always names a version.
  if (isDelete && a.expectedVersion === 0) return;
  if (cur.version !== a.expectedVersion) throw new VersionConflictError(a.table, a.id, a.expectedVersion, cur.version);
}

function decodeRow(table: TableState, a: StoreAction, index: number, createdIndex: number): Row {
  // Copy out of the entry buffer, and decode the copy: a subarray of the entry — the row's
  // bytes, or a bytes field the protobuf decoder hands out as a view — would keep the whole
  // entry (or the transport batch it arrived in) alive.
  const bytes = ownCopy(a.object);
  let object: StoredObject;
  try {
    object = table.def.codec.decode(bytes) as StoredObject;
  } catch (err) {
    throw new InvalidObjectError(a.table, a.id, `bytes do not decode: ${(err as Error).message}`);
  }
  if (!object || object.id !== a.id) {
    throw new InvalidObjectError(a.table, a.id, `the object's id is "${object?.id}", not the action's id`);
  }
  return { object: deepFreeze(object), bytes, version: index, createdIndex };
}

/**
 * After all actions, before any write:
 * - every index key function runs once on every new row, so one that throws rejects
 *   the transaction here instead of failing halfway through the writes;
 * - no unique-index key may end up held by two objects. An object that the transaction
 *   deletes or re-keys frees its old keys, so a swap within one transaction is allowed.
 */
function checkIndexes(state: StoreState, staging: Staging): void {
  for (const [name, changes] of staging) {
    const table = state.table(name);
    for (const def of table.def.indexes.values()) {
      const claimed = new Map<string, string>(); // key → staged id holding it
      for (const [id, row] of changes) {
        if (!row) continue;
        let keys: string[];
        try {
          keys = indexKeys(def, row.object);
        } catch (err) {
          throw new InvalidObjectError(name, id, `index ${def.name} cannot key this object: ${(err as Error).message}`);
        }
        if (!def.unique) continue;
        for (const k of keys) {
          const other = claimed.get(k);
          if (other !== undefined && other !== id) throw new DuplicateKeyError(name, def.name, k, id, other);
          claimed.set(k, id);
          for (const owner of table.ids(def.name, k)) {
            // A staged owner is judged by its staged row (already in `claimed` if it keeps k).
            if (owner !== id && !changes.has(owner)) throw new DuplicateKeyError(name, def.name, k, id, owner);
          }
        }
      }
    }
  }
}

function event(
  kind: StoreEvent['kind'],
  a: StoreAction,
  object: unknown,
  oldObject: unknown,
  version: number,
): StoreEvent {
  const ev: StoreEvent = oldObject === undefined
    ? { kind, table: a.table, id: a.id, object, version }
    : { kind, table: a.table, id: a.id, object, oldObject, version };
  return Object.freeze(ev);
}
