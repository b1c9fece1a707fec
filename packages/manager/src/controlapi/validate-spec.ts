// Service spec validation: pure, no store. Every refusal is one line naming the field
// and the rule, so `tswarm service create` can print it as is. Checks that need the
// store (name in use, networks exist, published ports free) live in services.ts/ports.ts.
//
// The rules follow swarmkit's controlapi (service.go, common.go) where Swarm has one,
// with tswarm's fields (milliseconds, no secrets/configs/mounts yet).
import {
  EndpointMode,
  PortProtocol,
  PublishMode,
  RestartCondition,
  ServiceSpec,
  UpdateFailureAction,
  UpdateOrder,
  type ContainerSpec,
  type EndpointSpec,
  type ResourceRequirements,
  type Resources,
  type RestartPolicy,
  type TaskSpec,
  type UpdateConfig,
} from '@tswarm/api';
import { parseConstraints } from '../scheduler/constraints.js';
import { invalidArgument } from './errors.js';

/**
 * Service names are DNS labels: other containers resolve `web` and `tasks.web`, so a dot
 * (which the brief's first draft allowed) would make `tasks.web.v2` ambiguous, and a
 * trailing `-` or `_` is not a valid label end. Swarm's rule: start and end with a letter
 * or digit, `-` and `_` between, at most 63 characters.
 */
export const SERVICE_NAME_RE = /^[a-zA-Z0-9](?:[a-zA-Z0-9_-]*[a-zA-Z0-9])?$/;
export const MAX_SERVICE_NAME_LENGTH = 63;
/** Swarm's floors: below these a container cannot do anything useful (swarmkit validateResources). */
export const MIN_NANO_CPUS = 1e6; // 0.001 CPU
export const MIN_MEMORY_BYTES = 4 * 1024 * 1024;

// The image reference grammar of distribution/reference, simplified (no IPv6 hosts).
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]+)?`;
const TAG = '[\\w][\\w.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}';
const IMAGE_RE = new RegExp(`^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::${TAG})?(?:@${DIGEST})?$`);
const MAX_IMAGE_NAME_LENGTH = 255;

export function checkServiceName(name: string): void {
  if (name.length > MAX_SERVICE_NAME_LENGTH) {
    throw invalidArgument(`invalid service name "${name}": it is ${name.length} characters long, the limit is ${MAX_SERVICE_NAME_LENGTH} (a DNS label)`);
  }
  if (!SERVICE_NAME_RE.test(name)) {
    throw invalidArgument(
      `invalid service name "${name}": use letters, digits, "-" and "_", starting and ending with a letter or digit (it becomes a DNS name)`,
    );
  }
}

export function checkImage(image: string): void {
  if (!image) throw invalidArgument('an image is required (e.g. nginx:1.25)');
  const name = image.split('@')[0]!.replace(/:[\w][\w.-]*$/, '');
  if (IMAGE_RE.test(image) && name.length <= MAX_IMAGE_NAME_LENGTH) return;
  const lastPart = name.slice(name.lastIndexOf('/') + 1);
  if (/[A-Z]/.test(lastPart) && IMAGE_RE.test(image.toLowerCase())) {
    throw invalidArgument(`invalid image "${image}": repository names must be lowercase`);
  }
  throw invalidArgument(`invalid image "${image}": not a valid reference (expected [registry/]name[:tag][@digest], e.g. nginx:1.25)`);
}

/**
 * Validates a spec and returns a normalized deep copy: mode defaults to one replica (as
 * the Docker API does), everything else as given. The name may be empty here; the
 * caller generates one (create) or keeps the current one (update).
 */
export function validateServiceSpec(input: ServiceSpec | undefined): ServiceSpec {
  if (!input) throw invalidArgument('a service spec is required');
  const spec = ServiceSpec.fromPartial(input);
  if (spec.name) checkServiceName(spec.name);
  checkLabels('service label', spec.labels);
  spec.mode ??= { $case: 'replicated', value: { replicas: 1 } };
  if (spec.mode.$case === 'replicated') {
    checkCount('replicas', spec.mode.value.replicas);
  }
  checkTaskSpec(spec.task);
  if (spec.update) checkUpdateConfig('update', spec.update);
  if (spec.rollback) {
    checkUpdateConfig('rollback', spec.rollback);
    if (spec.rollback.failureAction === UpdateFailureAction.UPDATE_FAILURE_ACTION_ROLLBACK) {
      throw invalidArgument('rollback config: the failure action of a rollback cannot be "rollback" (use pause or continue)');
    }
  }
  if (spec.endpoint) checkEndpoint(spec.endpoint);
  return spec;
}

function checkTaskSpec(task: TaskSpec | undefined): void {
  if (!task?.container) throw invalidArgument('an image is required (e.g. nginx:1.25)');
  checkContainer(task.container);
  if (task.resources) checkResourceRequirements(task.resources);
  if (task.restart) checkRestart(task.restart);
  if (task.placement) {
    try {
      parseConstraints(task.placement.constraints);
    } catch (e) {
      throw invalidArgument((e as Error).message);
    }
  }
  const seen = new Set<string>();
  for (const n of task.networks) {
    if (!n.target) throw invalidArgument('network attachment: a network name or ID is required');
    if (seen.has(n.target)) throw invalidArgument(`network ${n.target} is attached more than once`);
    seen.add(n.target);
    for (const a of n.aliases) {
      if (!/^[a-zA-Z0-9](?:[a-zA-Z0-9_.-]*[a-zA-Z0-9])?$/.test(a) || a.length > 253) {
        throw invalidArgument(`invalid network alias "${a}" on network ${n.target}: use a DNS name`);
      }
    }
  }
  checkCount('force update counter', task.forceUpdate);
}

function checkContainer(c: ContainerSpec): void {
  checkImage(c.image);
  for (const e of c.env) {
    const eq = e.indexOf('=');
    const key = eq < 0 ? e : e.slice(0, eq);
    if (key === '' || /\s/.test(key)) {
      throw invalidArgument(`invalid environment variable "${e}": expected KEY=VALUE with a non-empty KEY without spaces`);
    }
  }
  checkLabels('container label', c.labels);
  checkNonNegative('stop grace period', c.stopGracePeriodMs);
  if (c.stopSignal && !/^(?:SIG)?[A-Z0-9+-]+$|^[0-9]+$/i.test(c.stopSignal)) {
    throw invalidArgument(`invalid stop signal "${c.stopSignal}": use a signal name like SIGTERM or a number`);
  }
  if (c.hostname && !/^[a-zA-Z0-9](?:[a-zA-Z0-9.-]*[a-zA-Z0-9])?$/.test(c.hostname)) {
    throw invalidArgument(`invalid container hostname "${c.hostname}": use a DNS name`);
  }
}

function checkResources(what: string, r: Resources | undefined): void {
  if (!r) return;
  if (r.nanoCpus < 0 || !Number.isSafeInteger(r.nanoCpus)) throw invalidArgument(`invalid CPU ${what} ${r.nanoCpus / 1e9}: must not be negative`);
  if (r.nanoCpus !== 0 && r.nanoCpus < MIN_NANO_CPUS) {
    throw invalidArgument(`invalid CPU ${what} ${r.nanoCpus / 1e9}: must be at least ${MIN_NANO_CPUS / 1e9}`);
  }
  if (r.memoryBytes < 0 || !Number.isSafeInteger(r.memoryBytes)) throw invalidArgument(`invalid memory ${what} ${r.memoryBytes}: must not be negative`);
  if (r.memoryBytes !== 0 && r.memoryBytes < MIN_MEMORY_BYTES) {
    throw invalidArgument(`invalid memory ${what} ${r.memoryBytes} bytes: must be at least 4MiB`);
  }
}

function checkResourceRequirements(r: ResourceRequirements): void {
  checkResources('limit', r.limits);
  checkResources('reservation', r.reservations);
  const lim = r.limits;
  const res = r.reservations;
  if (!lim || !res) return;
  // 0 means "not set" for either side, so only two set values can contradict each other.
  if (lim.nanoCpus && res.nanoCpus > lim.nanoCpus) {
    throw invalidArgument(`CPU reservation ${res.nanoCpus / 1e9} is larger than the CPU limit ${lim.nanoCpus / 1e9}`);
  }
  if (lim.memoryBytes && res.memoryBytes > lim.memoryBytes) {
    throw invalidArgument(`memory reservation ${res.memoryBytes} bytes is larger than the memory limit ${lim.memoryBytes} bytes`);
  }
}

function checkRestart(p: RestartPolicy): void {
  if (!isKnown(RestartCondition, p.condition)) {
    throw invalidArgument(`invalid restart condition ${p.condition}: use any, on-failure or none`);
  }
  checkNonNegative('restart delay', p.delayMs);
  checkNonNegative('restart window', p.windowMs);
  checkCount('restart max attempts', p.maxAttempts);
}

function checkUpdateConfig(which: 'update' | 'rollback', u: UpdateConfig): void {
  checkCount(`${which} parallelism`, u.parallelism);
  checkNonNegative(`${which} delay`, u.delayMs);
  checkNonNegative(`${which} monitor period`, u.monitorMs);
  if (!Number.isFinite(u.maxFailureRatio) || u.maxFailureRatio < 0 || u.maxFailureRatio > 1) {
    throw invalidArgument(`invalid ${which} max failure ratio ${u.maxFailureRatio}: must be between 0 and 1`);
  }
  if (!isKnown(UpdateFailureAction, u.failureAction)) {
    throw invalidArgument(`invalid ${which} failure action ${u.failureAction}: use pause, continue or rollback`);
  }
  if (!isKnown(UpdateOrder, u.order)) throw invalidArgument(`invalid ${which} order ${u.order}: use stop-first or start-first`);
}

export function protocolName(p: PortProtocol): string {
  return p === PortProtocol.PORT_PROTOCOL_UDP ? 'udp' : 'tcp';
}

function checkEndpoint(e: EndpointSpec): void {
  if (!isKnown(EndpointMode, e.mode)) throw invalidArgument(`invalid endpoint mode ${e.mode}: use vip or dnsrr`);
  const published = new Set<string>();
  for (const p of e.ports) {
    if (!isKnown(PortProtocol, p.protocol)) throw invalidArgument(`invalid port protocol ${p.protocol}: use tcp or udp`);
    if (!isKnown(PublishMode, p.publishMode)) throw invalidArgument(`invalid publish mode ${p.publishMode}: use ingress or host`);
    if (!Number.isInteger(p.targetPort) || p.targetPort < 1 || p.targetPort > 65535) {
      throw invalidArgument(`invalid target port ${p.targetPort}: must be between 1 and 65535`);
    }
    if (!Number.isInteger(p.publishedPort) || p.publishedPort < 0 || p.publishedPort > 65535) {
      throw invalidArgument(`invalid published port ${p.publishedPort}: must be between 1 and 65535 (or 0 to pick one)`);
    }
    // The routing mesh balances over the VIP; with DNS round robin there is none (swarmkit refuses the same).
    if (e.mode === EndpointMode.ENDPOINT_MODE_DNSRR && p.publishMode === PublishMode.PUBLISH_MODE_INGRESS) {
      throw invalidArgument(`port ${p.targetPort}: ingress publishing needs the vip endpoint mode; use --endpoint-mode vip or publish with mode=host`);
    }
    if (p.publishedPort === 0) continue;
    const key = `${p.publishedPort}/${protocolName(p.protocol)}`;
    if (published.has(key)) throw invalidArgument(`port ${key} is published more than once in this service`);
    published.add(key);
  }
}

export function checkLabels(what: string, labels: { [k: string]: string }): void {
  for (const k of Object.keys(labels)) {
    if (k.trim() === '') throw invalidArgument(`invalid ${what}: the key is empty`);
  }
}

function checkNonNegative(what: string, ms: number): void {
  if (!Number.isSafeInteger(ms) || ms < 0) throw invalidArgument(`invalid ${what} ${ms}ms: must not be negative`);
}

function checkCount(what: string, n: number): void {
  if (!Number.isSafeInteger(n) || n < 0) throw invalidArgument(`invalid ${what} ${n}: must be a whole number, 0 or more`);
}

function isKnown(e: Record<string, string | number>, v: number): boolean {
  return v !== -1 && typeof e[v] === 'string';
}
