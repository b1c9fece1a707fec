import { RestartCondition, Service, Task, TaskSpec, TaskState, taskStateToJSON } from '@tswarm/api';
import { enumWord, truncateId } from './table.js';

/**
 * Convergence progress for `service create/update/scale/rollback`, as pure functions of
 * what the cluster reports: (service, tasks, live nodes) → the lines to draw and whether
 * the service has converged or can no longer converge. The loop that polls and redraws
 * lives in commands/converge.ts. Wording and bars follow Docker's service/progress package.
 */

/** Docker numbers the states a bar can show; running (9 of 9) is a full bar. */
const BAR_STEP: Partial<Record<TaskState, number>> = {
  [TaskState.TASK_STATE_NEW]: 1,
  [TaskState.TASK_STATE_PENDING]: 3,
  [TaskState.TASK_STATE_ASSIGNED]: 4,
  [TaskState.TASK_STATE_ACCEPTED]: 5,
  [TaskState.TASK_STATE_PREPARING]: 6,
  [TaskState.TASK_STATE_READY]: 7,
  [TaskState.TASK_STATE_STARTING]: 8,
  [TaskState.TASK_STATE_RUNNING]: 9,
};
const BAR_STEPS = 9;
const STATE_WIDTH = 'preparing'.length; // the longest state a bar is drawn for
/** Docker draws bars only on terminals wider than this, so lines never wrap. */
export const BAR_MIN_COLUMNS = 111;
/** More slots than this: only the overall line, as Docker does. */
export const MAX_PROGRESS_BARS = 20;
const MAX_ERROR_CHARS = 75;

export interface ProgressInput {
  service: Service;
  tasks: Task[];
  /** IDs of nodes not DOWN; tasks on down nodes are ignored, as Docker does. */
  activeNodes: Set<string>;
  rollback: boolean;
  /** Terminal width; bars only when ≥ BAR_MIN_COLUMNS. */
  columns: number;
}

export interface ProgressFrame {
  lines: string[];
  running: number;
  total: number;
  converged: boolean;
  /** Set when a slot failed and its restart policy allows no more attempts. */
  failure?: string;
}

export function stateWord(s: TaskState): string {
  return enumWord(taskStateToJSON(s), 'TASK_STATE_');
}

/**
 * Tasks of the service's current spec. Like the orchestrator, a task is out of date only
 * when both its spec version and its task spec differ: `scale` bumps the version but leaves
 * running tasks alone, and they count as converged.
 */
export function upToDate(service: Service, tasks: Task[]): Task[] {
  const ours = tasks.filter((t) => t.serviceId === service.id || t.serviceId === '');
  if (!service.specVersion || !ours.some((t) => t.specVersion)) return ours;
  const want = JSON.stringify(TaskSpec.toJSON(service.spec?.task ?? TaskSpec.fromPartial({})));
  return ours.filter((t) => t.specVersion === service.specVersion || JSON.stringify(TaskSpec.toJSON(t.spec ?? TaskSpec.fromPartial({}))) === want);
}

/** Per slot (or node, for global services) the task that speaks for it: lowest desired state, then lowest observed. */
function representative(tasks: Task[], key: (t: Task) => string): Map<string, Task> {
  const out = new Map<string, Task>();
  for (const t of tasks) {
    // Removed and orphaned tasks no longer speak for a slot (Docker skips states it has no number for).
    if (t.desiredState >= TaskState.TASK_STATE_REMOVE || state(t) >= TaskState.TASK_STATE_REMOVE) continue;
    const k = key(t);
    const cur = out.get(k);
    if (cur && (cur.desiredState < t.desiredState || (cur.desiredState === t.desiredState && state(cur) <= state(t)))) continue;
    out.set(k, t);
  }
  return out;
}

function state(t: Task): TaskState {
  return t.status?.state ?? TaskState.TASK_STATE_NEW;
}

function bar(step: number): string {
  const pct = Math.min(Math.floor(Math.floor((step / BAR_STEPS) * 100) / 2), 50);
  return `[${'='.repeat(pct)}>${' '.repeat(50 - pct)}]`;
}

function oneLine(s: string): string {
  const flat = s.replace(/\n/g, ' ');
  return flat.length > MAX_ERROR_CHARS ? flat.slice(0, MAX_ERROR_CHARS - 1) + '…' : flat;
}

/** The text after "1/3: ": the error, an unschedulable reason, or the state with its bar. */
function taskText(t: Task | undefined, bars: boolean): string {
  if (!t) return '';
  const st = state(t);
  if (t.status?.err) return oneLine(t.status.err);
  if (st === TaskState.TASK_STATE_PENDING && /no suitable node/i.test(t.status?.message ?? '')) return oneLine(t.status!.message);
  const step = BAR_STEP[st];
  if (step === undefined || t.desiredState > TaskState.TASK_STATE_RUNNING) return stateWord(st);
  return bars ? `${stateWord(st).padEnd(STATE_WIDTH)} ${bar(step)}` : stateWord(st);
}

function isRunning(t: Task): boolean {
  return t.desiredState <= TaskState.TASK_STATE_RUNNING && state(t) === TaskState.TASK_STATE_RUNNING;
}

export function renderProgress(input: ProgressInput): ProgressFrame {
  const { service } = input;
  const tasks = upToDate(service, input.tasks).filter((t) => !t.nodeId || input.activeNodes.has(t.nodeId));
  const global = service.spec?.mode?.$case === 'global';
  const key = global ? (t: Task) => t.nodeId : (t: Task) => String(t.slot);
  const bySlot = representative(global ? tasks.filter((t) => t.nodeId) : tasks, key);
  const total = global ? bySlot.size : service.spec?.mode?.$case === 'replicated' ? service.spec.mode.value.replicas : 0;
  const running = [...bySlot.values()].filter(isRunning).length;
  const failure = deadSlot(service, tasks, key);
  const overall = (n: number, of: number) => `overall progress: ${input.rollback ? 'rolling back update: ' : ''}${n} out of ${of} tasks`;
  if (global && total === 0) {
    return { lines: ['overall progress: waiting for new tasks'], running: 0, total: 0, converged: false, ...(failure && { failure }) };
  }
  const lines = [overall(Math.min(running, total), total)];
  const bars = input.columns >= BAR_MIN_COLUMNS;
  if (total <= MAX_PROGRESS_BARS) {
    // Slots are numbered 1..n in slot order, so a sparse set (after scaling) still reads 1/3, 2/3, 3/3.
    const keys = [...bySlot.keys()].sort(global ? undefined : (a, b) => Number(a) - Number(b));
    for (let i = 0; i < (global ? keys.length : total); i++) {
      const t = keys[i] === undefined ? undefined : bySlot.get(keys[i]!);
      const label = global ? truncateId(keys[i]!) : `${i + 1}/${total}`;
      lines.push(`${label}: ${taskText(t, bars)}`.trimEnd());
    }
  }
  return { lines, running, total, converged: running === total && !failure, ...(failure && { failure }) };
}

/**
 * A slot whose newest task ended (failed, rejected, or completed) and whose restart policy
 * will not start another: the service cannot converge, so waiting would never end.
 */
function deadSlot(service: Service, tasks: Task[], key: (t: Task) => string): string | undefined {
  const policy = service.spec?.task?.restart;
  const condition = policy?.condition ?? RestartCondition.RESTART_CONDITION_ANY;
  const newest = new Map<string, Task>();
  for (const t of tasks) {
    const cur = newest.get(key(t));
    if (!cur || created(t) > created(cur)) newest.set(key(t), t);
  }
  for (const t of newest.values()) {
    const st = state(t);
    if (st !== TaskState.TASK_STATE_FAILED && st !== TaskState.TASK_STATE_REJECTED && st !== TaskState.TASK_STATE_COMPLETE) continue;
    const noRestart = condition === RestartCondition.RESTART_CONDITION_NONE
      || (condition === RestartCondition.RESTART_CONDITION_ON_FAILURE && st === TaskState.TASK_STATE_COMPLETE)
      || (!!policy?.maxAttempts && t.restartCount >= policy.maxAttempts);
    if (!noRestart) continue;
    const name = `${service.spec?.name || truncateId(service.id)}.${t.slot || truncateId(t.nodeId)}`;
    const why = t.status?.err || t.status?.message || stateWord(st);
    return `task ${name} ${stateWord(st)} (${why}) and its restart policy allows no more attempts; see 'tswarm service ps ${service.spec?.name || service.id}'`;
  }
  return undefined;
}

function created(t: Task): number {
  return t.meta?.createdAtMs || t.status?.timestampMs || 0;
}
