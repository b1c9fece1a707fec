// How a task becomes a Docker container: its name, labels and create options. Pure functions
// of the task and the node, so they are tested without an engine.
import type { Task } from '@tswarm/api';
import type Docker from 'dockerode';
import type { ContainerFiles } from './container-files.js';

/** Labels every tswarm container carries; listManaged() and the lab's clean-up select by them. */
export const LABEL_TASK_ID = 'com.tswarm.task.id';
export const LABEL_SERVICE_ID = 'com.tswarm.service.id';
export const LABEL_SERVICE_NAME = 'com.tswarm.service.name';
export const LABEL_NODE_ID = 'com.tswarm.node.id';
export const LABEL_SLOT = 'com.tswarm.task.slot';
/** Set from $TSWARM_LAB: `npm run lab down` removes every container with its prefix. */
export const LABEL_LAB = 'com.tswarm.lab';

/** The environment variable that names the test lab a daemon runs in. */
export const LAB_ENV = 'TSWARM_LAB';

/** Docker's container-name alphabet; anything else in a service name becomes '_'. */
const NAME_UNSAFE = /[^a-zA-Z0-9_.-]/g;

/**
 * `tswarm.<service>.<slot>.<task ID>` for replicated tasks, `tswarm.<service>.<node ID>.<task ID>`
 * for global ones (slot 0), like Swarm's `<service>.<slot>.<task ID>`. The `tswarm.` prefix
 * keeps them apart from Docker Swarm's own containers on the same engine, and the task ID
 * (unique in the cluster) keeps the nodes of a lab, which share one engine, from colliding.
 */
export function containerName(task: Task): string {
  const middle = task.slot > 0 ? String(task.slot) : task.nodeId;
  return `tswarm.${task.serviceName}.${middle}.${task.id}`.replace(NAME_UNSAFE, '_');
}

export function containerLabels(task: Task, nodeId: string, lab: string | undefined): Record<string, string> {
  return {
    ...(task.spec?.container?.labels ?? {}),
    [LABEL_TASK_ID]: task.id,
    [LABEL_SERVICE_ID]: task.serviceId,
    [LABEL_SERVICE_NAME]: task.serviceName,
    [LABEL_NODE_ID]: nodeId,
    [LABEL_SLOT]: String(task.slot),
    ...(lab ? { [LABEL_LAB]: lab } : {}),
  };
}

/** Docker's API takes the stop timeout in whole seconds; round up so the grace is never cut. */
export function graceSeconds(graceMs: number): number {
  return Math.max(0, Math.ceil(graceMs / 1000));
}

/**
 * How containers get their network. Absent: Docker's default bridge (no overlay; used when
 * tswarmd runs without a data plane). Present: Docker's networking disabled, the data plane
 * plumbs the container's interfaces after start, and the node's files (container-files.ts)
 * are its resolv.conf and hosts.
 */
export type ContainerNetworking = ContainerFiles;

/**
 * The create request for a task. As in Swarm, the spec's `command` replaces the image's
 * entrypoint and `args` its command; an empty list keeps the image's own.
 */
export function createOptions(task: Task, nodeId: string, lab: string | undefined, net?: ContainerNetworking): Docker.ContainerCreateOptions {
  const c = task.spec?.container;
  if (!c?.image) throw new Error(`task ${task.id} has no container image; the service spec must name one`);
  const limits = task.spec?.resources?.limits;
  const opts: Docker.ContainerCreateOptions = {
    name: containerName(task),
    Image: c.image,
    Env: [...c.env],
    Labels: containerLabels(task, nodeId, lab),
    Hostname: c.hostname || undefined,
    // As CNI runtimes do: the engine creates an empty network namespace and tswarm's data
    // plane plumbs it (overlay veths, gateway interface), so Docker's own networking never
    // competes with ours. Disabled, not just `none`: with networking enabled every start runs
    // Docker's libnetwork hook and sandbox, ≈ 250 ms of work for a namespace tswarm plumbs
    // anyway. Docker then writes no resolv.conf or hosts: the node's own are mounted instead.
    ...(net ? { NetworkDisabled: true } : {}),
    HostConfig: {
      ...(net ? { NetworkMode: 'none', Binds: [`${net.resolvConfPath}:/etc/resolv.conf:ro`, `${net.hostsPath}:/etc/hosts:ro`] } : {}),
      NanoCpus: limits?.nanoCpus || undefined,
      Memory: limits?.memoryBytes || undefined,
      // No restart policy: restarting is the orchestrator's decision, made with a new task.
      RestartPolicy: { Name: 'no' },
    },
  };
  if (c.command.length > 0) opts.Entrypoint = [...c.command];
  if (c.args.length > 0) opts.Cmd = [...c.args];
  if (c.stopSignal) opts.StopSignal = c.stopSignal;
  // Recorded on the container so a stop without our grace period (an orphan clean-up, or
  // `docker stop` by hand) still honours the task's.
  if (c.stopGracePeriodMs > 0) opts.StopTimeout = graceSeconds(c.stopGracePeriodMs);
  return opts;
}
