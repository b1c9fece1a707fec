import { PublishMode, Task, TaskState } from '@tswarm/api';
import { formatPort } from '../flags/ports.js';
import { stateWord } from './progress.js';
import { displayImage } from './services.js';
import { capitalize, ellipsis, humanDuration, jsonLines, naturalCompare, table, truncateId } from './table.js';

/** Docker truncates the ERROR column to this many characters unless --no-trunc. */
const MAX_ERROR_CHARS = 30;

export interface PsOptions {
  quiet: boolean;
  noTrunc: boolean;
  format: 'json' | 'table';
  /** "now" for the "Running 5 seconds ago" column; injected so tables are testable. */
  nowMs: number;
  /** node ID → hostname; unknown IDs print as the ID. */
  nodeNames: Map<string, string>;
  /** service ID → name. */
  serviceNames: Map<string, string>;
}

/** web.1 for a replicated slot, web.<node ID> for a global service's task (Docker's task names). */
export function taskName(t: Task, serviceNames: Map<string, string>): string {
  const svc = serviceNames.get(t.serviceId) || t.serviceName || t.serviceId;
  return t.slot ? `${svc}.${t.slot}` : `${svc}.${t.nodeId}`;
}

/**
 * `service ps` rows: ID NAME IMAGE NODE DESIRED STATE CURRENT STATE ERROR PORTS. Tasks of one
 * slot sit together, newest first; the older ones are indented as ` \_ web.1`, as in Docker.
 */
export function renderTaskList(tasks: Task[], o: PsOptions): string[] {
  const named = tasks.map((t) => ({ t, name: taskName(t, o.serviceNames) }));
  named.sort((a, b) => naturalCompare(a.name, b.name) || created(b.t) - created(a.t));
  const id = (t: Task) => (o.noTrunc ? t.id : truncateId(t.id));
  if (o.quiet) return named.map(({ t }) => id(t));
  const rows = named.map(({ t, name }, i) => ({
    ID: id(t),
    Name: o.format === 'table' && i > 0 && named[i - 1]!.name === name ? ` \\_ ${name}` : name,
    Image: o.noTrunc ? t.spec?.container?.image ?? '' : displayImage(t.spec?.container?.image ?? ''),
    Node: t.nodeId ? o.nodeNames.get(t.nodeId) ?? t.nodeId : '',
    DesiredState: capitalize(stateWord(t.desiredState)),
    CurrentState: currentState(t, o.nowMs),
    Error: errorCell(t, o.noTrunc),
    Ports: (t.endpoint?.ports ?? []).filter((p) => p.publishMode === PublishMode.PUBLISH_MODE_HOST).map(formatPort).join(','),
  }));
  if (o.format === 'json') return jsonLines(rows);
  const header = ['ID', 'NAME', 'IMAGE', 'NODE', 'DESIRED STATE', 'CURRENT STATE', 'ERROR', 'PORTS'];
  return table([header, ...rows.map((r) => [r.ID, r.Name, r.Image, r.Node, r.DesiredState, r.CurrentState, r.Error, r.Ports])]);
}

/** "Running 5 seconds ago", "Pending less than a second ago". */
export function currentState(t: Task, nowMs: number): string {
  const st = t.status?.state ?? TaskState.TASK_STATE_NEW;
  const since = Math.max(0, nowMs - (t.status?.timestampMs || nowMs));
  return `${capitalize(stateWord(st))} ${humanDuration(since).toLowerCase()} ago`;
}

/**
 * The quoted error. A pending task that cannot be placed says why in its status message
 * ("no suitable node (…)"); that is shown too, or the user sees a silent "Pending".
 */
function errorCell(t: Task, noTrunc: boolean): string {
  const s = t.status;
  let text = s?.err ?? '';
  if (!text && s?.state === TaskState.TASK_STATE_PENDING && /no suitable node/i.test(s.message)) text = s.message;
  if (!text) return '';
  return `"${noTrunc ? text : ellipsis(text, MAX_ERROR_CHARS)}"`;
}

function created(t: Task): number {
  return t.meta?.createdAtMs || t.status?.timestampMs || 0;
}
