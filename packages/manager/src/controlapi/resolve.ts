// Finding the object a user named. Like Docker: an exact ID wins, then an exact name
// (case-insensitive, as names are stored lower-cased in the indexes), then a unique ID
// prefix. Anything else is NOT_FOUND, or INVALID_ARGUMENT when the reference is
// ambiguous (Docker's errAmbiguous is an invalid-parameter error too).
import type { Network, Node, Service, Task } from '@tswarm/api';
import type { ReadTx, StoredObject, Table, Versioned } from '@tswarm/store';
import { networksTable, nodesTable, servicesTable, tasksTable } from '../tables.js';
import { invalidArgument, notFound } from './errors.js';

interface Lookup<T extends StoredObject> {
  kind: string;
  table: Table<T>;
  /** Name index; omitted for objects without names (tasks). */
  nameIndex?: string;
  /** Appended to the NOT_FOUND line: what to do about it. */
  notFoundHint?: string;
}

function resolve<T extends StoredObject>(tx: ReadTx, ref: string, l: Lookup<T>): Versioned<T> {
  if (!ref) throw invalidArgument(`a ${l.kind} ID or name is required`);
  const exact = tx.get(l.table, ref);
  if (exact) return exact;
  if (l.nameIndex) {
    const named = tx.find(l.table, l.nameIndex, ref.toLowerCase());
    if (named.length === 1) return named[0]!;
    if (named.length > 1) {
      // Only node hostnames can repeat (service and network names have unique indexes).
      throw invalidArgument(`${l.kind} name ${ref} is ambiguous (${named.length} ${l.kind}s have it); use the ${l.kind} ID`);
    }
  }
  const byPrefix = tx.list(l.table).filter((r) => r.object.id.startsWith(ref));
  if (byPrefix.length === 1) return byPrefix[0]!;
  if (byPrefix.length > 1) {
    throw invalidArgument(`${l.kind} ${ref} is ambiguous (${byPrefix.length} IDs start with it); give more characters of the ID`);
  }
  throw notFound(`${l.kind} ${ref} not found${l.notFoundHint ? `; ${l.notFoundHint}` : ''}`);
}

/** By node ID, hostname or unique ID prefix. */
export function resolveNode(tx: ReadTx, ref: string): Versioned<Node> {
  return resolve(tx, ref, { kind: 'node', table: nodesTable, nameIndex: 'byHostname' });
}

/** By service ID, name or unique ID prefix. */
export function resolveService(tx: ReadTx, ref: string): Versioned<Service> {
  return resolve(tx, ref, { kind: 'service', table: servicesTable, nameIndex: 'byName' });
}

/** By task ID or unique ID prefix. */
export function resolveTask(tx: ReadTx, ref: string): Versioned<Task> {
  return resolve(tx, ref, { kind: 'task', table: tasksTable });
}

/** By network ID, name or unique ID prefix. */
export function resolveNetwork(tx: ReadTx, ref: string, notFoundHint?: string): Versioned<Network> {
  return resolve(tx, ref, { kind: 'network', table: networksTable, nameIndex: 'byName', notFoundHint });
}

/** How a node is named in messages: its hostname when it has one, else its ID. */
export function nodeLabel(n: Node): string {
  return n.description?.hostname || n.id;
}
