// Service RPCs: create, get, list (with replica counts), update (incl. rollback), remove.
import {
  ServiceSpec,
  TaskState,
  UpdateState,
  type CreateServiceRequest,
  type CreateServiceResponse,
  type GetServiceRequest,
  type GetServiceResponse,
  type ListServicesRequest,
  type ListServicesResponse,
  type RemoveServiceRequest,
  type RemoveServiceResponse,
  type Service,
  type ServiceCounts,
  type UpdateServiceRequest,
  type UpdateServiceResponse,
  type UpdateStatus,
} from '@tswarm/api';
import { DuplicateKeyError, VersionConflictError, type ReadTx } from '@tswarm/store';
import { servicesTable, tasksTable } from '../tables.js';
import { atVersion, touchedMeta, withVersion, type ControlContext } from './context.js';
import { alreadyExists, failedPrecondition, invalidArgument, outOfSequence, unimplemented } from './errors.js';
import { serviceNameFromId } from './ids.js';
import { assignPublishedPorts } from './ports.js';
import { resolveNetwork, resolveService } from './resolve.js';
import { changeTasks, changeTasksLater, raiseDesiredState } from './tasks.js';
import { validateServiceSpec } from './validate-spec.js';

/** Tries at a generated name before giving up (each try derives a longer name). */
const NAME_ATTEMPTS = 5;

export function serviceRpcs(ctx: ControlContext) {
  const { deps } = ctx;

  const nameInUse = (name: string) => alreadyExists(`service name "${name}" is already in use; choose another name or remove that service first`);

  async function createService(req: CreateServiceRequest): Promise<CreateServiceResponse> {
    const asked = validateServiceSpec(req.spec);
    let name = asked.name;
    try {
      const { version, result } = await ctx.write((tx) => {
        // A fresh copy per attempt: the steps below fill in the name and network IDs.
        const spec = ServiceSpec.fromPartial(asked);
        const id = deps.newId();
        name = spec.name ||= generatedName(tx, id);
        // The unique index decides at apply time; this check gives the same answer early
        // and keeps the port/network checks below from running for a doomed request.
        if (tx.find(servicesTable, 'byName', name.toLowerCase()).length > 0) throw nameInUse(name);
        attachNetworksById(tx, spec);
        const ports = assignPublishedPorts(spec, tx.list(servicesTable).map((r) => r.object));
        const now = deps.nowMs();
        const service: Service = {
          id,
          meta: touchedMeta(undefined, now),
          spec,
          previousSpec: undefined,
          endpoint: { spec: spec.endpoint, ports, virtualIps: [] },
          updateStatus: undefined,
          specVersion: 1,
        };
        tx.create(servicesTable, service);
        return service;
      });
      deps.logger.info('service created', { service: result.spec?.name, id: result.id });
      return { service: atVersion(result, version) };
    } catch (e) {
      if (e instanceof DuplicateKeyError) throw nameInUse(name);
      throw e;
    }
  }

  async function getService(req: GetServiceRequest): Promise<GetServiceResponse> {
    return { service: ctx.store.view((tx) => withVersion(resolveService(tx, req.serviceId))) };
  }

  async function listServices(_req: ListServicesRequest): Promise<ListServicesResponse> {
    return ctx.store.view((tx) => {
      const services = tx.list(servicesTable).map(withVersion);
      services.sort((a, b) => (a.spec?.name ?? '').localeCompare(b.spec?.name ?? '') || a.id.localeCompare(b.id));
      const counts: { [id: string]: ServiceCounts } = {};
      for (const s of services) counts[s.id] = serviceCounts(tx, s);
      return { services, counts };
    });
  }

  async function updateService(req: UpdateServiceRequest): Promise<UpdateServiceResponse> {
    if (!req.serviceVersion) {
      throw invalidArgument('the service version is required (the meta.version you read); inspect the service and retry');
    }
    // Validate before touching the store; the name may be left empty to keep the current one.
    const asked = req.rollback ? undefined : validateServiceSpec(req.spec);
    let name = req.serviceId;
    try {
      const { version, result } = await ctx.write(
        (tx) => {
          const cur = resolveService(tx, req.serviceId);
          const old = cur.object;
          name = old.spec?.name ?? old.id;
          if (cur.version !== req.serviceVersion) throw outOfSequence('service');
          let next: ServiceSpec;
          let updateStatus: UpdateStatus | undefined;
          if (req.rollback) {
            if (!old.previousSpec) throw failedPrecondition(`service ${name} has no previous spec to roll back to`);
            next = ServiceSpec.fromPartial(old.previousSpec);
            updateStatus = { state: UpdateState.UPDATE_STATE_ROLLBACK_STARTED, startedAtMs: deps.nowMs(), completedAtMs: 0, message: 'manually requested rollback' };
          } else {
            next = ServiceSpec.fromPartial(asked!);
            next.name ||= name;
            checkImmutable(old, next);
            attachNetworksById(tx, next);
            // Nothing changed: write nothing, so previousSpec still holds the spec before
            // the last real change and a following rollback goes where the user expects.
            if (sameSpec(next, old.spec)) return { service: withVersion(cur), changed: false };
          }
          const ports = assignPublishedPorts(
            next,
            tx.list(servicesTable).filter((r) => r.object.id !== old.id).map((r) => r.object),
            { spec: old.spec, ports: old.endpoint?.ports ?? [] },
          );
          const service: Service = {
            ...structuredClone(old),
            meta: touchedMeta(old.meta, deps.nowMs()),
            spec: next,
            previousSpec: structuredClone(old.spec),
            // Kept: the allocator owns the VIPs and reconciles them with the new spec.
            endpoint: { spec: next.endpoint, ports, virtualIps: structuredClone(old.endpoint?.virtualIps ?? []) },
            updateStatus,
            // Monotonic, also on rollback: the orchestrator compares task specs by content
            // when versions differ, so tasks already on the restored spec keep running.
            specVersion: old.specVersion + 1,
          };
          tx.update(servicesTable, service, cur.version);
          return { service, changed: true };
        },
        // Only the service is written, and its version is the user's to manage.
        () => false,
      );
      if (!result.changed) return { service: result.service };
      deps.logger.info(req.rollback ? 'service rolled back' : 'service updated', { service: name, specVersion: result.service.specVersion });
      return { service: atVersion(result.service, version) };
    } catch (e) {
      if (e instanceof VersionConflictError) throw outOfSequence('service');
      throw e;
    }
  }

  async function removeService(req: RemoveServiceRequest): Promise<RemoveServiceResponse> {
    let name = req.serviceId;
    const change = raiseDesiredState(TaskState.TASK_STATE_REMOVE, deps.nowMs());
    // Retried on a conflict: the dispatcher may write a task's status between our read
    // and the commit; nothing here carries a version the user gave.
    const { result: rest } = await ctx.write((tx) => {
      const cur = resolveService(tx, req.serviceId);
      name = cur.object.spec?.name ?? cur.object.id;
      tx.delete(servicesTable, cur.object.id, cur.version);
      // Tasks are told to go in the same transaction, so no reader ever sees a task that
      // wants to run for a service that is gone. The orchestrator and agents do the rest.
      return changeTasks(tx, tx.find(tasksTable, 'byService', cur.object.id), change);
    });
    await changeTasksLater(ctx, rest, change);
    deps.logger.info('service removed', { service: name });
    return {};
  }

  return { createService, getService, listServices, updateService, removeService };
}

/** running: tasks running and meant to; desired: replicas, or global tasks meant to run. */
export function serviceCounts(tx: ReadTx, s: Service): ServiceCounts {
  const tasks = tx.find(tasksTable, 'byService', s.id).map((r) => r.object);
  const wanted = tasks.filter((t) => t.desiredState === TaskState.TASK_STATE_RUNNING);
  const running = wanted.filter((t) => t.status?.state === TaskState.TASK_STATE_RUNNING).length;
  const mode = s.spec?.mode;
  const desired = mode?.$case === 'replicated' ? mode.value.replicas : wanted.length;
  return { running, desired };
}

/** A generated name that no service uses yet, derived from the new service's ID. */
function generatedName(tx: ReadTx, id: string): string {
  for (let attempt = 0; attempt < NAME_ATTEMPTS; attempt++) {
    const name = serviceNameFromId(id, attempt);
    if (tx.find(servicesTable, 'byName', name).length === 0) return name;
  }
  return `service_${id.slice(0, 12)}`;
}

/**
 * Points every network attachment at the network's ID (users give names; the allocator
 * and agents need IDs, and a name could later be reused by another network). Refuses
 * unknown networks now rather than leave tasks pending, and the ingress network, which
 * is joined by publishing a port, not by attachment (as Swarm refuses it).
 */
function attachNetworksById(tx: ReadTx, spec: ServiceSpec): void {
  const seen = new Set<string>();
  for (const n of spec.task?.networks ?? []) {
    const net = resolveNetwork(tx, n.target, `create it with "tswarm network create -d overlay ${n.target}"`).object;
    if (net.spec?.ingress) {
      throw invalidArgument(`service cannot be attached to the ingress network "${net.spec.name}" explicitly; publish a port to use the routing mesh`);
    }
    if (seen.has(net.id)) throw invalidArgument(`network ${n.target} is attached more than once`);
    seen.add(net.id);
    n.target = net.id;
  }
}

/** Swarm refuses these in an update: both would need the orchestrator to diff old and new mode/name. */
function checkImmutable(old: Service, next: ServiceSpec): void {
  if (old.spec && next.name !== old.spec.name) {
    throw unimplemented(`renaming services is not supported (service ${old.spec.name}); create a new service instead`);
  }
  if (old.spec?.mode?.$case !== next.mode?.$case) {
    throw unimplemented(`service mode change is not allowed (service ${old.spec?.name} is ${old.spec?.mode?.$case ?? 'replicated'}); remove the service and create it again`);
  }
}

function sameSpec(a: ServiceSpec, b: ServiceSpec | undefined): boolean {
  if (!b) return false;
  return Buffer.from(ServiceSpec.encode(a).finish()).equals(Buffer.from(ServiceSpec.encode(ServiceSpec.fromPartial(b)).finish()));
}
