import {
  EndpointMode, PortConfig, ResourceRequirements, RestartCondition, RestartPolicy, ServiceSpec,
  UpdateConfig, UpdateFailureAction, UpdateOrder,
} from '@tswarm/api';
import { CliError, usageError } from '../errors.js';
import { DEFAULT_MONITOR_MS, DEFAULT_RESTART_DELAY_MS, ServiceFlags } from '../flags/service-options.js';

/**
 * Flags → ServiceSpec, with no I/O: `createSpec` for `service create`, `updateSpec` for
 * `service update` (a changed copy of the spec read from the cluster). Everything a flag can
 * get wrong is refused before this point; what is left here are the checks that need
 * several flags together, or the current spec.
 */

/** Which flags the user gave; a default value is not a change for `update`. */
export type Given = (key: keyof ServiceFlags) => boolean;

const RESTART: Record<ServiceFlags['restartCondition'], RestartCondition> = {
  any: RestartCondition.RESTART_CONDITION_ANY,
  'on-failure': RestartCondition.RESTART_CONDITION_ON_FAILURE,
  none: RestartCondition.RESTART_CONDITION_NONE,
};
const FAILURE: Record<ServiceFlags['updateFailureAction'], UpdateFailureAction> = {
  pause: UpdateFailureAction.UPDATE_FAILURE_ACTION_PAUSE,
  continue: UpdateFailureAction.UPDATE_FAILURE_ACTION_CONTINUE,
  rollback: UpdateFailureAction.UPDATE_FAILURE_ACTION_ROLLBACK,
};
const ORDER: Record<ServiceFlags['updateOrder'], UpdateOrder> = {
  'stop-first': UpdateOrder.UPDATE_ORDER_STOP_FIRST,
  'start-first': UpdateOrder.UPDATE_ORDER_START_FIRST,
};
const ENDPOINT: Record<ServiceFlags['endpointMode'], EndpointMode> = {
  vip: EndpointMode.ENDPOINT_MODE_VIP,
  dnsrr: EndpointMode.ENDPOINT_MODE_DNSRR,
};

/** Docker's defaults for an update or rollback config that was not given (swarmkit api/defaults). */
export function defaultUpdateConfig(): UpdateConfig {
  return {
    parallelism: 1, delayMs: 0, failureAction: UpdateFailureAction.UPDATE_FAILURE_ACTION_PAUSE,
    monitorMs: DEFAULT_MONITOR_MS, maxFailureRatio: 0, order: UpdateOrder.UPDATE_ORDER_STOP_FIRST,
  };
}

export function createSpec(image: string, args: string[], f: ServiceFlags, given: Given): ServiceSpec {
  if (f.mode === 'global' && given('replicas')) throw usageError('--replicas can only be used with replicated mode');
  const ports = f.publish.flat();
  checkDuplicatePorts(ports);
  // `docker run --network-alias` names the container on its networks; here the aliases join
  // every attachment, as `--network name=N,alias=A` would for each.
  if (f.networkAlias.length > 0 && f.network.length === 0) throw usageError('--network-alias needs a --network to apply to');
  const networks = f.network.map((n) => ({ ...n, aliases: [...n.aliases, ...f.networkAlias.filter((a) => !n.aliases.includes(a))] }));
  const spec: ServiceSpec = {
    name: f.name ?? '',
    labels: Object.fromEntries(f.label),
    task: {
      container: {
        image, command: [], args, env: f.env, labels: Object.fromEntries(f.containerLabel),
        stopGracePeriodMs: f.stopGracePeriod ?? 0, stopSignal: f.stopSignal ?? '', hostname: f.hostname ?? '',
      },
      resources: undefined,
      restart: {
        condition: RESTART[f.restartCondition], delayMs: f.restartDelay ?? DEFAULT_RESTART_DELAY_MS,
        maxAttempts: f.restartMaxAttempts ?? 0, windowMs: f.restartWindow ?? 0,
      },
      placement: { constraints: f.constraint },
      networks,
      forceUpdate: 0,
    },
    // Docker leaves --replicas unset to mean 1; our wire has no "unset", so say 1.
    mode: f.mode === 'global' ? { $case: 'global', value: {} } : { $case: 'replicated', value: { replicas: f.replicas ?? 1 } },
    update: applyUpdateFlags(defaultUpdateConfig(), f, 'update', () => true),
    rollback: applyUpdateFlags(defaultUpdateConfig(), f, 'rollback', () => true),
    endpoint: { mode: ENDPOINT[f.endpointMode], ports },
  };
  spec.task!.resources = applyResources(undefined, f, given);
  return spec;
}

/** Resources only when one was given, so "no limits" stays an absent field. */
function applyResources(current: ResourceRequirements | undefined, f: ServiceFlags, given: Given): ResourceRequirements | undefined {
  if (!(['limitCpu', 'limitMemory', 'reserveCpu', 'reserveMemory'] as const).some(given)) return current;
  const r: ResourceRequirements = {
    limits: { nanoCpus: 0, memoryBytes: 0, ...current?.limits },
    reservations: { nanoCpus: 0, memoryBytes: 0, ...current?.reservations },
  };
  if (given('limitCpu')) r.limits!.nanoCpus = f.limitCpu!;
  if (given('limitMemory')) r.limits!.memoryBytes = f.limitMemory!;
  if (given('reserveCpu')) r.reservations!.nanoCpus = f.reserveCpu!;
  if (given('reserveMemory')) r.reservations!.memoryBytes = f.reserveMemory!;
  if (r.limits!.memoryBytes && r.reservations!.memoryBytes > r.limits!.memoryBytes) {
    throw usageError('--reserve-memory cannot be larger than --limit-memory');
  }
  if (r.limits!.nanoCpus && r.reservations!.nanoCpus > r.limits!.nanoCpus) {
    throw usageError('--reserve-cpu cannot be larger than --limit-cpu');
  }
  return r;
}

function applyUpdateFlags(c: UpdateConfig, f: ServiceFlags, prefix: 'update' | 'rollback', given: Given): UpdateConfig {
  const k = <S extends string>(s: S) => `${prefix}${s}` as keyof ServiceFlags;
  const v = (s: string) => f[k(s)] as never;
  const out = { ...c };
  if (given(k('Parallelism'))) out.parallelism = v('Parallelism');
  if (given(k('Delay'))) out.delayMs = v('Delay');
  if (given(k('FailureAction'))) out.failureAction = FAILURE[v('FailureAction') as ServiceFlags['updateFailureAction']];
  if (given(k('Monitor'))) out.monitorMs = v('Monitor');
  if (given(k('MaxFailureRatio'))) out.maxFailureRatio = v('MaxFailureRatio');
  if (given(k('Order'))) out.order = ORDER[v('Order') as ServiceFlags['updateOrder']];
  return out;
}

function checkDuplicatePorts(ports: PortConfig[]): void {
  const seen = new Set<string>();
  for (const p of ports) {
    if (p.publishedPort === 0) continue;
    const key = `${p.publishedPort}/${p.protocol}`;
    if (seen.has(key)) throw usageError(`port ${p.publishedPort} is published more than once`);
    seen.add(key);
  }
}

/** The update-only flags that change the spec (all but -d, -q). */
const SPEC_FLAGS: Array<keyof ServiceFlags> = [
  'image', 'args', 'envAdd', 'envRm', 'labelAdd', 'labelRm', 'containerLabelAdd', 'containerLabelRm', 'constraintAdd',
  'constraintRm', 'publishAdd', 'publishRm', 'networkAdd', 'networkRm', 'force', 'replicas', 'hostname', 'stopGracePeriod',
  'stopSignal', 'limitCpu', 'limitMemory', 'reserveCpu', 'reserveMemory', 'restartCondition', 'restartDelay',
  'restartMaxAttempts', 'restartWindow', 'endpointMode', 'updateParallelism', 'updateDelay', 'updateFailureAction',
  'updateMonitor', 'updateMaxFailureRatio', 'updateOrder', 'rollbackParallelism', 'rollbackDelay',
  'rollbackFailureAction', 'rollbackMonitor', 'rollbackMaxFailureRatio', 'rollbackOrder',
];

/** --rollback means "the previous spec", so it cannot be combined with changes to this one. */
export function checkRollbackAlone(given: Given): void {
  const other = SPEC_FLAGS.filter(given);
  if (other.length) throw usageError(`--rollback cannot be combined with --${kebab(other[0]!)}`);
}

function kebab(s: string): string {
  return s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/**
 * The spec `service update` sends: a copy of `current` with the given flags applied.
 * For the -add/-rm pairs removals go first, so `--env-rm A --env-add A=1` ends with A=1.
 */
export function updateSpec(current: ServiceSpec, f: ServiceFlags, given: Given): ServiceSpec {
  const spec: ServiceSpec = structuredClone(current);
  spec.task ??= { container: undefined, resources: undefined, restart: undefined, placement: undefined, networks: [], forceUpdate: 0 };
  const task = spec.task;
  task.container ??= { image: '', command: [], args: [], env: [], labels: {}, stopGracePeriodMs: 0, stopSignal: '', hostname: '' };
  const c = task.container;
  if (given('image')) c.image = f.image!;
  if (given('args')) c.args = f.args!;
  if (given('hostname')) c.hostname = f.hostname!;
  if (given('stopGracePeriod')) c.stopGracePeriodMs = f.stopGracePeriod!;
  if (given('stopSignal')) c.stopSignal = f.stopSignal!;
  c.env = mergeByKey(c.env, f.envRm, f.envAdd, (e) => e.split('=')[0]!);
  c.labels = mergeMap(c.labels, f.containerLabelRm, f.containerLabelAdd);
  spec.labels = mergeMap(spec.labels, f.labelRm, f.labelAdd);
  task.placement ??= { constraints: [] };
  task.placement.constraints = mergeByKey(task.placement.constraints, f.constraintRm, f.constraintAdd, (s) => s);
  task.networks = mergeByKey(task.networks, f.networkRm, f.networkAdd, (n) => n.target);
  task.resources = applyResources(task.resources, f, given);
  if ((['restartCondition', 'restartDelay', 'restartMaxAttempts', 'restartWindow'] as const).some(given)) {
    const r: RestartPolicy = task.restart ?? { condition: RestartCondition.RESTART_CONDITION_ANY, delayMs: DEFAULT_RESTART_DELAY_MS, maxAttempts: 0, windowMs: 0 };
    if (given('restartCondition')) r.condition = RESTART[f.restartCondition];
    if (given('restartDelay')) r.delayMs = f.restartDelay;
    if (given('restartMaxAttempts')) r.maxAttempts = f.restartMaxAttempts!;
    if (given('restartWindow')) r.windowMs = f.restartWindow;
    task.restart = r;
  }
  if (given('force')) task.forceUpdate += 1;
  if (given('replicas')) {
    if (spec.mode?.$case !== 'replicated') throw new CliError('replicas can only be used with replicated mode');
    spec.mode.value.replicas = f.replicas!;
  }
  spec.update = applyUpdateFlags(spec.update ?? defaultUpdateConfig(), f, 'update', given);
  spec.rollback = applyUpdateFlags(spec.rollback ?? defaultUpdateConfig(), f, 'rollback', given);
  spec.endpoint ??= { mode: EndpointMode.ENDPOINT_MODE_VIP, ports: [] };
  if (given('endpointMode')) spec.endpoint.mode = ENDPOINT[f.endpointMode];
  const drop = f.publishRm.flat();
  const ports = spec.endpoint.ports.filter((p) => !drop.some((d) => d.targetPort === p.targetPort && d.protocol === p.protocol));
  spec.endpoint.ports = mergeByKey(ports, [], f.publishAdd.flat(), portKey);
  checkDuplicatePorts(spec.endpoint.ports);
  return spec;
}

/** A published port is identified by its published port when fixed, else by its target. */
function portKey(p: PortConfig): string {
  return p.publishedPort ? `p${p.publishedPort}/${p.protocol}` : `t${p.targetPort}/${p.protocol}`;
}

/** Removes items whose key is in `rm`, then adds or replaces `add` by key, keeping order. */
function mergeByKey<T>(items: T[], rm: string[], add: T[], key: (t: T) => string): T[] {
  const out = items.filter((i) => !rm.includes(key(i)));
  for (const a of add) {
    const at = out.findIndex((i) => key(i) === key(a));
    if (at >= 0) out[at] = a;
    else out.push(a);
  }
  return out;
}

function mergeMap(m: Record<string, string>, rm: string[], add: Array<[string, string]>): Record<string, string> {
  const out = { ...m };
  for (const k of rm) delete out[k];
  for (const [k, v] of add) out[k] = v;
  return out;
}
