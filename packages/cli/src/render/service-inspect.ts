// `service inspect` in Docker's shape (swarm.Service as the Engine API returns it), so scripts
// written against `docker service inspect` — `.Spec.TaskTemplate.ContainerSpec.Image`,
// `.Endpoint.VirtualIPs`, `.Endpoint.Ports` — keep working. Durations are nanoseconds and
// enums lower-case words, as in Docker's JSON. Pure: a wire Service in, a plain object out.
import {
  EndpointMode,
  PortProtocol,
  PublishMode,
  RestartCondition,
  UpdateFailureAction,
  UpdateOrder,
  type PortConfig,
  type Service,
  type ServiceSpec,
  type UpdateConfig,
} from '@tswarm/api';
import { goJsonTime, swarmMeta } from './docker-json.js';

const NS_PER_MS = 1_000_000;
const ns = (ms: number | undefined) => Math.round((ms ?? 0) * NS_PER_MS);

const RESTART: Record<number, string> = {
  [RestartCondition.RESTART_CONDITION_ANY]: 'any',
  [RestartCondition.RESTART_CONDITION_ON_FAILURE]: 'on-failure',
  [RestartCondition.RESTART_CONDITION_NONE]: 'none',
};
const FAILURE_ACTION: Record<number, string> = {
  [UpdateFailureAction.UPDATE_FAILURE_ACTION_PAUSE]: 'pause',
  [UpdateFailureAction.UPDATE_FAILURE_ACTION_CONTINUE]: 'continue',
  [UpdateFailureAction.UPDATE_FAILURE_ACTION_ROLLBACK]: 'rollback',
};
const ORDER: Record<number, string> = {
  [UpdateOrder.UPDATE_ORDER_STOP_FIRST]: 'stop-first',
  [UpdateOrder.UPDATE_ORDER_START_FIRST]: 'start-first',
};

function ports(list: readonly PortConfig[] | undefined): Record<string, unknown>[] {
  return (list ?? []).map((p) => ({
    ...(p.name ? { Name: p.name } : {}),
    Protocol: p.protocol === PortProtocol.PORT_PROTOCOL_UDP ? 'udp' : 'tcp',
    TargetPort: p.targetPort,
    PublishedPort: p.publishedPort,
    PublishMode: p.publishMode === PublishMode.PUBLISH_MODE_HOST ? 'host' : 'ingress',
  }));
}

function updateConfig(u: UpdateConfig | undefined): Record<string, unknown> | undefined {
  if (!u) return undefined;
  return {
    Parallelism: u.parallelism, Delay: ns(u.delayMs), FailureAction: FAILURE_ACTION[u.failureAction] ?? 'pause',
    Monitor: ns(u.monitorMs), MaxFailureRatio: u.maxFailureRatio, Order: ORDER[u.order] ?? 'stop-first',
  };
}

function endpointSpec(spec: ServiceSpec | undefined): Record<string, unknown> {
  const e = spec?.endpoint;
  return { Mode: e?.mode === EndpointMode.ENDPOINT_MODE_DNSRR ? 'dnsrr' : 'vip', ...(e?.ports.length ? { Ports: ports(e.ports) } : {}) };
}

function serviceSpec(spec: ServiceSpec | undefined): Record<string, unknown> {
  const t = spec?.task;
  const c = t?.container;
  const res = t?.resources;
  const mode = spec?.mode?.$case === 'global' ? { Global: {} } : { Replicated: { Replicas: spec?.mode?.$case === 'replicated' ? spec.mode.value.replicas : 0 } };
  return {
    Name: spec?.name ?? '',
    Labels: { ...(spec?.labels ?? {}) },
    TaskTemplate: {
      ContainerSpec: {
        Image: c?.image ?? '',
        ...(c?.command.length ? { Command: [...c.command] } : {}),
        ...(c?.args.length ? { Args: [...c.args] } : {}),
        ...(c?.env.length ? { Env: [...c.env] } : {}),
        ...(c && Object.keys(c.labels).length ? { Labels: { ...c.labels } } : {}),
        ...(c?.hostname ? { Hostname: c.hostname } : {}),
        ...(c?.stopSignal ? { StopSignal: c.stopSignal } : {}),
        ...(c?.stopGracePeriodMs ? { StopGracePeriod: ns(c.stopGracePeriodMs) } : {}),
      },
      Resources: {
        Limits: { NanoCPUs: res?.limits?.nanoCpus ?? 0, MemoryBytes: res?.limits?.memoryBytes ?? 0 },
        Reservations: { NanoCPUs: res?.reservations?.nanoCpus ?? 0, MemoryBytes: res?.reservations?.memoryBytes ?? 0 },
      },
      RestartPolicy: {
        Condition: RESTART[t?.restart?.condition ?? 0] ?? 'any', Delay: ns(t?.restart?.delayMs),
        MaxAttempts: t?.restart?.maxAttempts ?? 0, ...(t?.restart?.windowMs ? { Window: ns(t.restart.windowMs) } : {}),
      },
      Placement: { ...(t?.placement?.constraints.length ? { Constraints: [...t.placement.constraints] } : {}) },
      ...(t?.networks.length ? { Networks: t.networks.map((n) => ({ Target: n.target, ...(n.aliases.length ? { Aliases: [...n.aliases] } : {}) })) } : {}),
      ForceUpdate: t?.forceUpdate ?? 0,
    },
    Mode: mode,
    ...(spec?.update ? { UpdateConfig: updateConfig(spec.update) } : {}),
    ...(spec?.rollback ? { RollbackConfig: updateConfig(spec.rollback) } : {}),
    EndpointSpec: endpointSpec(spec),
  };
}

export function inspectService(s: Service): Record<string, unknown> {
  const out: Record<string, unknown> = {
    ...swarmMeta(s.id, s.meta),
    Spec: serviceSpec(s.spec),
    ...(s.previousSpec ? { PreviousSpec: serviceSpec(s.previousSpec) } : {}),
    Endpoint: {
      Spec: endpointSpec(s.spec),
      ...(s.endpoint?.ports.length ? { Ports: ports(s.endpoint.ports) } : {}),
      ...(s.endpoint?.virtualIps.length ? { VirtualIPs: s.endpoint.virtualIps.map((v) => ({ NetworkID: v.networkId, Addr: v.addr })) } : {}),
    },
  };
  const u = s.updateStatus;
  if (u && u.state !== 0) {
    out['UpdateStatus'] = {
      State: ['', 'updating', 'paused', 'completed', 'rollback_started', 'rollback_paused', 'rollback_completed'][u.state] ?? '',
      ...(u.startedAtMs ? { StartedAt: goJsonTime(u.startedAtMs) } : {}),
      ...(u.completedAtMs ? { CompletedAt: goJsonTime(u.completedAtMs) } : {}),
      Message: u.message,
    };
  }
  return out;
}
