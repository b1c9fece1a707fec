import {
  Node, Service, endpointModeToJSON, restartConditionToJSON, updateFailureActionToJSON, updateOrderToJSON, UpdateConfig,
  publishModeToJSON, portProtocolToJSON, updateStateToJSON,
} from '@tswarm/api';
import { formatDurationMs } from '../flags/duration.js';
import { humanBytes } from '../format.js';
import { goJsonTime } from './docker-json.js';
import { nodeAvailability, nodeStatus } from './nodes.js';
import { byKey, capitalize, enumWord } from './table.js';

/**
 * `inspect --pretty` for nodes and services: Docker's headings and labels, with values
 * aligned by spaces (Docker's own output mixes tabs and spaces from nested tabwriters; the
 * content is what a reader needs, the alignment here is simply regular).
 */
type Row = string | [string, string];

function layout(rows: Row[]): string[] {
  const width = Math.max(...rows.filter(Array.isArray).map(([k]) => k.length)) + 2;
  return rows.map((r) => (typeof r === 'string' ? r : `${`${r[0]}:`.padEnd(width)}${r[1]}`));
}

function time(ms: number | undefined): string {
  return ms ? new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' +0000 utc') : '';
}

function cpus(nano: number): string {
  return String(nano / 1e9);
}

/** Go's time.Time String() as Docker's PrettyPrint lower-cases it: "2016-06-07 20:31:11.853 +0000 utc". */
function goTimeText(ms: number | undefined): string {
  return goJsonTime(ms).replace('T', ' ').replace(/Z$/, ' +0000 utc');
}

/** In the order of Docker's template (cli/command/node/formatter.go); labels sorted by key, as Go's templates range over maps. */
export function prettyNode(n: Node): string[] {
  const rows: Row[] = [['ID', n.id]];
  const labels = Object.entries(n.spec?.labels ?? {}).sort(byKey);
  if (labels.length) rows.push('Labels:', ...labels.map(([k, v]) => ` - ${v ? `${k}=${v}` : k}`));
  rows.push(['Hostname', n.description?.hostname ?? ''], ['Joined at', goTimeText(n.meta?.createdAtMs)]);
  rows.push('Status:', [' State', nodeStatus(n)]);
  if (n.status?.message) rows.push([' Message', n.status.message]);
  rows.push([' Availability', nodeAvailability(n)]);
  if (n.status?.addr) rows.push([' Address', n.status.addr]);
  const m = n.managerStatus;
  if (m) rows.push('Manager Status:', [' Address', m.addr], [' Raft Status', capitalize(m.reachability)], [' Leader', m.leader ? 'Yes' : 'No']);
  const d = n.description;
  rows.push('Platform:', [' Operating System', d?.os ?? ''], [' Architecture', d?.architecture ?? '']);
  rows.push('Resources:', [' CPUs', cpus(d?.resources?.nanoCpus ?? 0)], [' Memory', humanBytes(d?.resources?.memoryBytes ?? 0)]);
  rows.push(['Engine Version', d?.engineVersion ?? '']);
  return layout(rows);
}

function updateRows(c: UpdateConfig, what: 'Update' | 'Rollback'): Row[] {
  return [
    [' Parallelism', String(c.parallelism)],
    ...(c.delayMs ? [[' Delay', formatDurationMs(c.delayMs)] as [string, string]] : []),
    [' On failure', enumWord(updateFailureActionToJSON(c.failureAction), 'UPDATE_FAILURE_ACTION_')],
    [' Monitoring Period', formatDurationMs(c.monitorMs)],
    [' Max failure ratio', String(c.maxFailureRatio)],
    [` ${what} order`, enumWord(updateOrderToJSON(c.order), 'UPDATE_ORDER_')],
  ];
}

export function prettyService(s: Service): string[] {
  const spec = s.spec;
  const rows: Row[] = [['ID', s.id], ['Name', spec?.name ?? '']];
  const labels = Object.entries(spec?.labels ?? {});
  if (labels.length) rows.push('Labels:', ...labels.map(([k, v]) => ` ${k}=${v}`));
  rows.push(['Service Mode', capitalize(spec?.mode?.$case ?? '')]);
  if (spec?.mode?.$case === 'replicated') rows.push([' Replicas', String(spec.mode.value.replicas)]);
  if (s.updateStatus && s.updateStatus.state) {
    rows.push('UpdateStatus:', [' State', enumWord(updateStateToJSON(s.updateStatus.state), 'UPDATE_STATE_')], [' Started', time(s.updateStatus.startedAtMs)]);
    if (s.updateStatus.message) rows.push([' Message', s.updateStatus.message]);
  }
  const t = spec?.task;
  if (t?.placement?.constraints.length) rows.push('Placement:', [' Constraints', `[${t.placement.constraints.join(' ')}]`]);
  if (spec?.update) rows.push('UpdateConfig:', ...updateRows(spec.update, 'Update'));
  if (spec?.rollback) rows.push('RollbackConfig:', ...updateRows(spec.rollback, 'Rollback'));
  const c = t?.container;
  rows.push('ContainerSpec:', [' Image', c?.image ?? '']);
  if (c?.args.length) rows.push([' Args', c.args.join(' ')]);
  if (c?.env.length) rows.push([' Env', c.env.join(' ')]);
  if (c?.hostname) rows.push([' Hostname', c.hostname]);
  if (c?.stopGracePeriodMs) rows.push([' StopGracePeriod', formatDurationMs(c.stopGracePeriodMs)]);
  const r = t?.resources;
  if (r) {
    rows.push('Resources:');
    for (const [label, res] of [['Reservations', r.reservations], ['Limits', r.limits]] as const) {
      if (!res || (!res.nanoCpus && !res.memoryBytes)) continue;
      rows.push(` ${label}:`);
      if (res.nanoCpus) rows.push(['  CPU', cpus(res.nanoCpus)]);
      if (res.memoryBytes) rows.push(['  Memory', humanBytes(res.memoryBytes)]);
    }
  }
  if (t?.restart) {
    rows.push('RestartPolicy:', [' Condition', enumWord(restartConditionToJSON(t.restart.condition), 'RESTART_CONDITION_')], [' Delay', formatDurationMs(t.restart.delayMs)]);
    rows.push([' Max attempts', String(t.restart.maxAttempts)]);
    if (t.restart.windowMs) rows.push([' Window', formatDurationMs(t.restart.windowMs)]);
  }
  if (t?.networks.length) rows.push(['Networks', t.networks.map((n) => n.target).join(' ')]);
  rows.push(['Endpoint Mode', enumWord(endpointModeToJSON(spec?.endpoint?.mode ?? 0), 'ENDPOINT_MODE_')]);
  const ports = s.endpoint?.ports.length ? s.endpoint.ports : spec?.endpoint?.ports ?? [];
  if (ports.length) {
    rows.push('Ports:');
    for (const p of ports) {
      rows.push(` PublishedPort = ${p.publishedPort}`, `  Protocol = ${enumWord(portProtocolToJSON(p.protocol), 'PORT_PROTOCOL_')}`, `  TargetPort = ${p.targetPort}`, `  PublishMode = ${enumWord(publishModeToJSON(p.publishMode), 'PUBLISH_MODE_')}`);
    }
  }
  return layout(rows);
}
