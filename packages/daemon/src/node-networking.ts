// The node's networking as the agent sees it (one Dataplane): the Linux data plane
// (packages/network) plus the service-discovery resolver (packages/dns), which listens on
// the gateway bridge address every container has as its nameserver. The resolver learns
// names from the same network views the data plane programs, and who is asking from the
// data plane's list of local containers, so DNS and the kernel can never disagree on
// which replicas exist.
import type { EndpointReceive, Logger, NetworkView, Task } from '@tswarm/api';
import type { Dataplane } from '@tswarm/agent';
import { ServiceResolver } from '@tswarm/dns';
import { LinuxDataplane } from '@tswarm/network';

/** The name every namespace this node creates starts with; the test lab's prefix when in a lab. */
export function namespacePrefix(env: NodeJS.ProcessEnv = process.env): string {
  return env['TSWARM_LAB'] || 'tsw';
}

export class NodeNetworking implements Dataplane {
  private constructor(private readonly plane: LinuxDataplane, private readonly resolver: ServiceResolver) {}

  static async start(opts: { nodeId: string; logger: Logger }): Promise<NodeNetworking> {
    let resolver: ServiceResolver | undefined;
    const plane = await LinuxDataplane.create({
      nodeId: opts.nodeId,
      namePrefix: namespacePrefix(),
      logger: opts.logger.child('network'),
      onClients: (clients) => resolver?.setClients(clients),
    });
    try {
      resolver = await ServiceResolver.start({ host: plane.containerDns[0]!, logger: opts.logger.child('dns') });
    } catch (e) {
      await plane.close({ teardown: false });
      throw new Error(`cannot start the service-discovery resolver on ${plane.containerDns[0]}:53: ${(e as Error).message}`);
    }
    return new NodeNetworking(plane, resolver);
  }

  get containerDns(): readonly string[] {
    return this.plane.containerDns;
  }

  setView(view: NetworkView): void {
    this.resolver.setView(view);
    this.plane.setView(view);
  }

  attach(task: Task, pid: number): Promise<EndpointReceive[]> {
    return this.plane.attach(task, pid);
  }

  detach(taskId: string): Promise<void> {
    return this.plane.detach(taskId);
  }

  sweep(keep: ReadonlySet<string>): Promise<void> {
    return this.plane.sweep(keep);
  }

  async close(opts: { teardown: boolean }): Promise<void> {
    await this.resolver.close();
    await this.plane.close(opts);
  }
}
