// The Executor that runs tasks as Docker containers (dockerode over the engine's socket).
// Several lab nodes share one engine, so everything this executor lists or cleans up is
// selected by the node-ID label, never by name patterns.
import * as os from 'node:os';
import { silentLogger, type Logger, type NodeDescription, type Task } from '@tswarm/api';
import type { Executor, ManagedContainer, TaskController } from '@tswarm/agent';
import Docker from 'dockerode';
import { LAB_ENV, LABEL_NODE_ID, LABEL_TASK_ID, type ContainerNetworking } from './container-config.js';
import { DockerTaskController, type ControllerContext } from './docker-controller.js';
import { engineAddress, statusOf, toExecutorError } from './docker-errors.js';

export interface DockerExecutorOptions {
  /** This node's ID: written on every container and the only ones listManaged() returns. */
  nodeId: string;
  /**
   * The hostname describe() reports. Lab hosts share one engine (whose `docker info` name is
   * the machine's), so the daemon passes its own; defaults to os.hostname().
   */
  hostname?: string;
  /** The engine client; defaults to dockerode's (DOCKER_HOST, else /var/run/docker.sock). */
  docker?: Docker;
  /** Containers on networking `none`, plumbed by the data plane; absent: Docker's default bridge. */
  networking?: ContainerNetworking;
  /** Lab prefix for the `com.tswarm.lab` label; defaults to $TSWARM_LAB. */
  lab?: string;
  logger?: Logger;
}

export class DockerExecutor implements Executor {
  readonly docker: Docker;
  private readonly ctx: ControllerContext;

  constructor(private readonly opts: DockerExecutorOptions) {
    if (!opts.nodeId) throw new Error('DockerExecutor needs the node ID (from the node certificate) to label containers');
    this.docker = opts.docker ?? new Docker();
    this.ctx = {
      docker: this.docker,
      nodeId: opts.nodeId,
      lab: opts.lab ?? (process.env[LAB_ENV] || undefined),
      networking: opts.networking,
      logger: (opts.logger ?? silentLogger).child('executor'),
      socketPath: engineAddress(this.docker.modem as Parameters<typeof engineAddress>[0]),
    };
  }

  get nodeId(): string { return this.opts.nodeId; }

  async describe(): Promise<NodeDescription> {
    let info: { NCPU: number; MemTotal: number; ServerVersion: string; OSType: string; Architecture: string };
    try {
      info = await this.docker.info();
    } catch (err) {
      throw toExecutorError(err, this.ctx.socketPath);
    }
    return {
      hostname: this.opts.hostname ?? os.hostname(),
      os: info.OSType,
      architecture: info.Architecture,
      resources: { nanoCpus: info.NCPU * 1e9, memoryBytes: info.MemTotal },
      engineVersion: info.ServerVersion,
    };
  }

  controller(task: Task): DockerTaskController & TaskController {
    return new DockerTaskController(this.ctx, task);
  }

  async listManaged(): Promise<ManagedContainer[]> {
    try {
      const list = await this.docker.listContainers({
        all: true,
        filters: { label: [`${LABEL_NODE_ID}=${this.opts.nodeId}`, LABEL_TASK_ID] },
      });
      return list.map((c) => ({ taskId: c.Labels[LABEL_TASK_ID]!, containerId: c.Id, running: c.State === 'running' }));
    } catch (err) {
      throw toExecutorError(err, this.ctx.socketPath);
    }
  }

  async removeManaged(containerId: string): Promise<void> {
    const c = this.docker.getContainer(containerId);
    try {
      // No `t`: Docker uses the StopTimeout recorded at create (the task's grace period).
      await c.stop();
    } catch (err) {
      const s = statusOf(err);
      if (s !== 304 && s !== 404) throw toExecutorError(err, this.ctx.socketPath);
    }
    try {
      await c.remove({ force: true, v: true });
    } catch (err) {
      if (statusOf(err) !== 404) throw toExecutorError(err, this.ctx.socketPath);
    }
  }
}
