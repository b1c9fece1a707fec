// The contract between the agent and the node's network data plane (STYLE.md point 2).
// packages/network implements it on Linux (sandbox namespaces, VXLAN, veth, nftables);
// FakeDataplane (fake-dataplane.ts) implements it in memory for tests.
//
// The agent owns *when*: it hands over the manager's network view as it arrives, plumbs a
// task's container once its main process exists, and releases it once it is gone. The
// data plane owns *how*, and every piece of kernel state it creates.
import type { EndpointReceive, NetworkView, Task } from '@tswarm/api';

export interface Dataplane {
  /**
   * Nameservers every container of this node gets in its resolv.conf: the node's resolver,
   * reachable from the container through its gateway interface. Fixed for the process's life.
   */
  readonly containerDns: readonly string[];

  /**
   * Replaces the cluster's network view for this node (remote endpoints, VIP backends,
   * published ports, names). Returns at once; the data plane applies views in order, may
   * skip to the newest when several queue up, and never throws (failures are logged and
   * retried with the next view or a periodic resync).
   */
  setView(view: NetworkView): void;

  /**
   * Plumbs the running container of `task` (its main process is `pid`) into the task's
   * networks (`task.networks`, each carrying its Network) and the node's gateway bridge.
   * Resolves when its interfaces are up, with addresses, routes and load-balancing rules.
   * Idempotent: a container plumbed before an agent restart is recognised and adopted.
   * Rejects with an Error whose message is for the user (it becomes the task's error).
   * Resolves with the VNIs that reach the container directly (the task reports them with
   * RUNNING, and other nodes send to them); empty when every network takes the sandbox way.
   */
  attach(task: Task, pid: number): Promise<EndpointReceive[]>;

  /**
   * The task's container stopped or was removed: forget its endpoint and, when it was the
   * node's last one on a network, remove that network's sandbox. Idempotent; never throws.
   */
  detach(taskId: string): Promise<void>;

  /**
   * Called once after the agent has seen its complete task set following a start: sandboxes
   * and handles left from an earlier run that no current task needs are removed.
   */
  sweep(keepTaskIds: ReadonlySet<string>): Promise<void>;

  /**
   * Stops background work. With `teardown` (the node leaves the swarm) also removes every
   * namespace, link and rule it created; without it, leaves them for the next process to
   * adopt, so running containers keep their network across a tswarmd restart.
   */
  close(opts: { teardown: boolean }): Promise<void>;
}
