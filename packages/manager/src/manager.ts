import * as grpc from '@grpc/grpc-js';
import { GRPC_COMMON_OPTIONS, Logger, NodeCAService, RaftMembershipService } from '@tswarm/api';
import { NODE_CHANNEL_OPTIONS, NodeCredentials, NodeServerCredentials, peerIdentity, requireRole } from '@tswarm/ca';
import { newObjectId } from './ids.js';
import { nodeCAService } from './node-ca-service.js';
import { bindServer, RaftGroup } from './raft-group.js';
import { raftMembershipService } from './raft-membership-service.js';
import { CLUSTER_TABLES } from './tables.js';

/** How long stop() lets in-flight cluster-port calls finish before cutting them. */
const SHUTDOWN_GRACE_MS = 2_000;

export interface ManagerOptions {
  nodeId: string;
  clusterId: string;
  dataDir: string;
  listenAddr: string;
  advertiseAddr: string;
  /**
   * This node's identity, owned by the daemon: a renewed certificate is served and
   * presented from the next connection on, without restarting the manager.
   */
  credentials: NodeCredentials;
  /** A brand-new swarm: this manager bootstraps a one-member Raft group. */
  bootstrap: boolean;
  /** A joining manager: cluster-port addresses to dial until the log names the members. */
  peers?: Record<string, string>;
  /** Restart from this manager's own Raft data as the group's only member (quorum lost for good). */
  forceNewCluster?: boolean;
  tickMs?: number;
  electionTicks?: number;
  logger: Logger;
}

/** Work only the Raft leader does (dispatching, orchestrating, scheduling). */
export interface LeaderRole {
  start(): void;
  stop(): Promise<void> | void;
}

/**
 * One manager: its Raft membership and store, and the cluster port (2377) serving Raft,
 * the node CA, Raft membership and — through `addService` — the dispatcher. Everything on
 * the cluster port is mutual TLS; joiners without a certificate may only reach the CA.
 * Leader-only roles are started when this manager becomes leader and stopped when it
 * stops being leader, so exactly one manager orchestrates at a time.
 */
export class Manager {
  private leaderRoles: LeaderRole[] = [];
  private leading = false;

  private constructor(
    readonly o: ManagerOptions,
    readonly group: RaftGroup,
    readonly server: grpc.Server,
    readonly serverCreds: NodeServerCredentials,
    private readonly releaseServerCreds: () => void,
  ) {}

  static async start(o: ManagerOptions): Promise<Manager> {
    const { credentials: serverCreds, release } = o.credentials.server('verify-if-given');
    const clientCreds = o.credentials.client({ expectRole: 'manager' });
    const server = new grpc.Server({ ...GRPC_COMMON_OPTIONS, 'grpc.max_receive_message_length': 64 << 20 });
    const group = await RaftGroup.start({
      id: o.nodeId,
      listenAddr: o.listenAddr,
      advertiseAddr: o.advertiseAddr,
      dataDir: o.dataDir,
      bootstrap: o.bootstrap ? { [o.nodeId]: o.advertiseAddr } : undefined,
      peers: o.peers,
      forceNewCluster: o.forceNewCluster,
      tables: CLUSTER_TABLES,
      tickMs: o.tickMs,
      electionTicks: o.electionTicks,
      server,
      clientCredentials: clientCreds,
      channelOptions: NODE_CHANNEL_OPTIONS,
      authorize: (call) => requireRole(call as never, ['manager'], { clusterId: o.clusterId }).nodeId,
      // The client credentials already refuse a server without a manager certificate of this cluster.
      identifyServer: (call) => peerIdentity(call)?.nodeId,
      logger: o.logger,
    });
    server.addService(NodeCAService, nodeCAService({ store: group.store, nowMs: Date.now, newId: newObjectId, clusterId: o.clusterId }));
    server.addService(RaftMembershipService, raftMembershipService({ node: group.node, store: group.store, clusterId: o.clusterId, nowMs: Date.now, logger: o.logger }));
    const m = new Manager(o, group, server, serverCreds, release);
    return m;
  }

  /** Adds a service to the cluster port; call before `listen()`. */
  addService<S extends grpc.UntypedServiceImplementation>(def: grpc.ServiceDefinition<S>, impl: S): void {
    this.server.addService(def, impl);
  }

  /** Registers the roles to run while leader, then binds the cluster port. */
  async listen(roles: LeaderRole[]): Promise<void> {
    this.leaderRoles = roles;
    await bindServer(this.server, this.o.listenAddr, this.serverCreds);
    this.group.node.onLeaderChange((_leader, isLeader) => this.leadershipChanged(isLeader));
    this.leadershipChanged(this.group.node.isLeader());
    this.o.logger.info('manager listening', { listen: this.o.listenAddr, advertise: this.o.advertiseAddr });
  }

  private leadershipChanged(isLeader: boolean): void {
    if (isLeader === this.leading) return;
    this.leading = isLeader;
    this.o.logger.info(isLeader ? 'became raft leader: starting dispatcher and orchestration' : 'no longer raft leader: stopping dispatcher and orchestration');
    for (const r of this.leaderRoles) {
      try {
        if (isLeader) r.start();
        else void r.stop();
      } catch (e) {
        this.o.logger.error('leader role failed to change state', { error: (e as Error).message });
      }
    }
  }

  isLeader(): boolean {
    return this.group.node.isLeader();
  }

  async stop(): Promise<void> {
    if (this.leading) for (const r of this.leaderRoles) await r.stop();
    this.leading = false;
    // Peers' Raft streams and agents' sessions may never end on their own; after a grace
    // period they are cut, so a demoted manager really stops.
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => { this.server.forceShutdown(); resolve(); }, SHUTDOWN_GRACE_MS);
      this.server.tryShutdown(() => { clearTimeout(force); resolve(); });
    });
    this.releaseServerCreds();
    await this.group.stop();
  }
}
