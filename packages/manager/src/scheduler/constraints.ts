// Placement constraints: `node.hostname==h1`, `node.labels.zone!=b`, ...
//
// Parsed once by the control API (to refuse bad specs with a precise error) and again by
// the scheduler and the global orchestrator (to match nodes). Matching follows Swarm:
// keys and values compare case-insensitively, so `node.role==Manager` works as users expect.
import { Node, NodeRole } from '@tswarm/api';

export type ConstraintKey =
  | { kind: 'id' }
  | { kind: 'hostname' }
  | { kind: 'role' }
  | { kind: 'label'; name: string };

export interface Constraint {
  /** The text the user wrote, for messages. */
  readonly text: string;
  readonly key: ConstraintKey;
  readonly op: '==' | '!=';
  /** Trimmed; compared case-insensitively. */
  readonly value: string;
}

const LABEL_PREFIX = 'node.labels.';
const ROLE_VALUES = ['manager', 'worker'];

function syntaxError(text: string): Error {
  return new Error(
    `invalid constraint "${text}": expected <key>==<value> or <key>!=<value> ` +
      'with key node.id, node.hostname, node.role or node.labels.<name>',
  );
}

function parseKey(raw: string): ConstraintKey | undefined {
  const key = raw.toLowerCase();
  if (key === 'node.id') return { kind: 'id' };
  if (key === 'node.hostname') return { kind: 'hostname' };
  if (key === 'node.role') return { kind: 'role' };
  if (key.startsWith(LABEL_PREFIX) && raw.length > LABEL_PREFIX.length) {
    // Label names keep their case for lookup; Docker's label keys are case-sensitive.
    return { kind: 'label', name: raw.slice(LABEL_PREFIX.length) };
  }
  return undefined;
}

/** Parses one constraint; throws a one-line error that names the constraint. */
export function parseConstraint(text: string): Constraint {
  // `!=` is looked for first: `a!=b` also contains `=`, never the other way round.
  const neq = text.indexOf('!=');
  const eq = text.indexOf('==');
  let at: number;
  let op: '==' | '!=';
  if (neq >= 0 && (eq < 0 || neq < eq)) {
    at = neq;
    op = '!=';
  } else if (eq >= 0) {
    at = eq;
    op = '==';
  } else {
    throw syntaxError(text);
  }
  const key = parseKey(text.slice(0, at).trim());
  const value = text.slice(at + 2).trim();
  // A second operator in the value (`a==b==c`) is almost certainly a typo.
  if (!key || value.includes('==') || value.includes('!=')) throw syntaxError(text);
  if (value === '') throw new Error(`invalid constraint "${text}": the value is empty`);
  if (key.kind === 'role' && !ROLE_VALUES.includes(value.toLowerCase())) {
    throw new Error(`invalid constraint "${text}": node.role must be manager or worker`);
  }
  return { text, key, op, value };
}

/** Parses every constraint of a placement; throws on the first bad one. */
export function parseConstraints(texts: readonly string[]): Constraint[] {
  return texts.map(parseConstraint);
}

function nodeValue(node: Node, key: ConstraintKey): string | undefined {
  switch (key.kind) {
    case 'id':
      return node.id;
    case 'hostname':
      return node.description?.hostname ?? '';
    case 'role':
      return node.role === NodeRole.NODE_ROLE_MANAGER ? 'manager' : 'worker';
    case 'label':
      return node.spec?.labels[key.name];
  }
}

/** True when the node satisfies this one constraint. A missing label never equals a value. */
export function constraintMatches(c: Constraint, node: Node): boolean {
  const actual = nodeValue(node, c.key);
  const equal = actual !== undefined && actual.toLowerCase() === c.value.toLowerCase();
  return c.op === '==' ? equal : !equal;
}

/** True when the node satisfies all constraints (an empty list matches every node). */
export function nodeMatchesConstraints(constraints: readonly Constraint[], node: Node): boolean {
  return constraints.every((c) => constraintMatches(c, node));
}
