import { Node, nodeAvailabilityToJSON, NodeRole, nodeStateToJSON } from '@tswarm/api';
import { capitalize, enumWord, jsonLines, naturalCompare, table } from './table.js';

export function nodeStatus(n: Node): string {
  return capitalize(enumWord(nodeStateToJSON(n.status?.state ?? 0), 'NODE_STATE_'));
}

export function nodeAvailability(n: Node): string {
  return capitalize(enumWord(nodeAvailabilityToJSON(n.spec?.availability ?? 0), 'NODE_AVAILABILITY_'));
}

/** "Leader", "Reachable", "Unreachable", or empty for a worker. */
export function managerStatus(n: Node): string {
  const m = n.managerStatus;
  if (!m && n.role !== NodeRole.NODE_ROLE_MANAGER) return '';
  if (m?.leader) return 'Leader';
  return capitalize(m?.reachability || 'unreachable');
}

/**
 * `node ls` rows: ID HOSTNAME STATUS AVAILABILITY MANAGER STATUS ENGINE VERSION, sorted by
 * hostname; the node this CLI talks to is marked "ID *" as in Docker. IDs are never
 * truncated (Docker prints node IDs whole).
 */
export function renderNodeList(nodes: Node[], selfId: string, opts: { quiet: boolean; format: 'json' | 'table' }): string[] {
  const sorted = [...nodes].sort((a, b) => naturalCompare(a.description?.hostname ?? '', b.description?.hostname ?? ''));
  if (opts.quiet) return sorted.map((n) => n.id);
  const rows = sorted.map((n) => ({
    ID: n.id,
    Self: n.id === selfId,
    Hostname: n.description?.hostname ?? '',
    Status: nodeStatus(n),
    Availability: nodeAvailability(n),
    ManagerStatus: managerStatus(n),
    EngineVersion: n.description?.engineVersion ?? '',
  }));
  if (opts.format === 'json') return jsonLines(rows);
  return table([
    ['ID', 'HOSTNAME', 'STATUS', 'AVAILABILITY', 'MANAGER STATUS', 'ENGINE VERSION'],
    ...rows.map((r) => [r.Self ? `${r.ID} *` : r.ID, r.Hostname, r.Status, r.Availability, r.ManagerStatus, r.EngineVersion]),
  ]);
}
