import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { GRPC_COMMON_OPTIONS, type Logger } from '@tswarm/api';
import { DEFAULT_KEEP_ENTRIES, forceNewCluster, GrpcTransport, GrpcTransportOptions, NodeId, openDiskStorage, RAFT_SERVICE, RaftNode, RaftStorage } from '@tswarm/raft';
import { AnyTable, Store } from '@tswarm/store';

export interface RaftGroupOptions {
  id: NodeId;
  /** Where the cluster port listens, e.g. 0.0.0.0:2377; ignored when `server` is given. */
  listenAddr: string;
  /** What the other members dial to reach this one, e.g. 192.168.1.10:2377. */
  advertiseAddr: string;
  /** This member's Raft directory (WAL segments and snapshots) lives under it. */
  dataDir: string;
  /** Members of a brand-new group and their addresses; ignored when dataDir holds state. */
  bootstrap?: Record<NodeId, string>;
  /** Addresses to dial before the log says who the members are (a joining manager). */
  peers?: Record<NodeId, string>;
  /**
   * Restart as the only member of the group, from this member's own log (a group that lost
   * quorum for good): every other member is removed by committed configuration changes
   * appended before the node starts. Needs existing state in dataDir.
   */
  forceNewCluster?: boolean;
  tables: readonly AnyTable[];
  tickMs?: number;
  electionTicks?: number;
  snapshotInterval?: number;
  /**
   * The cluster-port server to register the Raft service on; its owner binds it. Without
   * one, the group binds its own on `listenAddr` (the test-only static path).
   */
  server?: grpc.Server;
  /** mutual TLS in a cluster; insecure only for loopback tests and benchmarks. */
  serverCredentials?: grpc.ServerCredentials;
  clientCredentials?: grpc.ChannelCredentials;
  channelOptions?: grpc.ChannelOptions;
  /** Checks each incoming Raft call (a manager certificate) and returns the caller's node ID. */
  authorize?: (call: grpc.ServerReadableStream<unknown, unknown>) => NodeId | undefined;
  /** The node ID a dialed member's certificate proves (its manager certificate). */
  identifyServer?: GrpcTransportOptions['identifyServer'];
  logger: Logger;
}

/**
 * One manager's membership in the Raft group: the durable log on disk, the node loop,
 * the gRPC transport on the cluster port and the replicated store it feeds.
 */
export class RaftGroup {
  private constructor(
    readonly node: RaftNode,
    readonly store: Store,
    private readonly ownServer: grpc.Server | undefined,
    private readonly storage: RaftStorage,
    /** The members a forced new cluster removed at this start (empty otherwise). */
    readonly removedByForce: readonly NodeId[],
  ) {}

  static async start(o: RaftGroupOptions): Promise<RaftGroup> {
    const { storage, state } = await openDiskStorage(path.join(o.dataDir, 'raft'));
    for (const w of state.warnings) o.logger.warn(`raft storage: ${w}`);
    let recovered: Pick<typeof state, 'hardState' | 'snapshot' | 'entries'> = state;
    let removedByForce: NodeId[] = [];
    if (o.forceNewCluster) {
      try {
        const forced = forceNewCluster(o.id, state);
        await storage.save(forced.hardState, forced.entries, true);
        recovered = forced.recovered;
        removedByForce = forced.removed;
        o.logger.warn('forcing a new cluster: this manager restarts as the only raft member', { removed: forced.removed.join(',') || 'none' });
      } catch (e) {
        await storage.close();
        throw e;
      }
    }
    let transport: GrpcTransport | undefined;
    const proposer = {
      propose: (data: Uint8Array) => node.propose(data),
      readIndex: () => node.readIndex(),
    };
    const store = new Store({ proposer, tables: o.tables });
    const node: RaftNode = new RaftNode({
      id: o.id,
      storage,
      recovered,
      stateMachine: {
        apply: (index, data) => store.apply(index, data),
        advance: (index) => store.advance(index),
        snapshot: () => store.snapshot(),
        captureSnapshot: () => store.captureSnapshot(),
        restore: (data) => store.restore(data),
      },
      transport: (handlers) => (transport = new GrpcTransport({
        id: o.id,
        credentials: o.clientCredentials ?? grpc.credentials.createInsecure(),
        channelOptions: o.channelOptions,
        handlers,
        authorize: o.authorize,
        identifyServer: o.identifyServer,
      })),
      bootstrap: o.bootstrap,
      peers: o.peers,
      tickMs: o.tickMs,
      electionTicks: o.electionTicks,
      snapshotInterval: o.snapshotInterval,
      // Keep at most half an interval of entries behind a snapshot for slow followers.
      keepEntriesAfterSnapshot: o.snapshotInterval === undefined ? undefined : Math.min(DEFAULT_KEEP_ENTRIES, Math.floor(o.snapshotInterval / 2)),
      logger: o.logger.child('raft'),
    });
    await node.start();
    let ownServer: grpc.Server | undefined;
    if (o.server) {
      o.server.addService(RAFT_SERVICE, transport!.service());
    } else {
      ownServer = new grpc.Server({ ...GRPC_COMMON_OPTIONS, 'grpc.max_receive_message_length': 64 << 20 });
      ownServer.addService(RAFT_SERVICE, transport!.service());
      await bindServer(ownServer, o.listenAddr, o.serverCredentials ?? grpc.ServerCredentials.createInsecure());
    }
    o.logger.info('raft member started', { id: o.id, advertise: o.advertiseAddr });
    return new RaftGroup(node, store, ownServer, storage, removedByForce);
  }

  async stop(): Promise<void> {
    this.node.stop();
    this.store.close();
    if (this.ownServer) await new Promise<void>((resolve) => this.ownServer!.tryShutdown(() => resolve()));
    // The node loop only starts closing its storage; wait until it is closed (queued writes
    // done, files released), so the same directory can be opened again at once.
    await this.storage.close().catch(() => undefined);
  }
}

/** Binds a gRPC server on the cluster port with a message that says which address failed. */
export function bindServer(server: grpc.Server, addr: string, creds: grpc.ServerCredentials): Promise<number> {
  return new Promise<number>((resolve, reject) =>
    server.bindAsync(addr, creds, (err, port) =>
      err ? reject(new Error(`cannot listen on ${addr} for the cluster port: ${err.message}`)) : resolve(port)));
}
