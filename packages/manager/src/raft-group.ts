import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Logger, RaftService } from '@tswarm/api';
import { DEFAULT_KEEP_ENTRIES, GrpcTransport, NodeId, openDiskStorage, RaftNode } from '@tswarm/raft';
import { AnyTable, Store } from '@tswarm/store';

export interface RaftGroupOptions {
  id: NodeId;
  /** Where the cluster port listens, e.g. 0.0.0.0:2377. */
  listenAddr: string;
  /** What the other members dial to reach this one, e.g. 192.168.1.10:2377. */
  advertiseAddr: string;
  /** This member's Raft directory (WAL segments and snapshots). */
  dataDir: string;
  /** Members of a brand-new group and their addresses; ignored when dataDir holds state. */
  bootstrap?: Record<NodeId, string>;
  tables: readonly AnyTable[];
  tickMs?: number;
  electionTicks?: number;
  snapshotInterval?: number;
  /** mutual TLS in a cluster; insecure only for loopback tests and benchmarks. */
  serverCredentials?: grpc.ServerCredentials;
  clientCredentials?: grpc.ChannelCredentials;
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
    private readonly server: grpc.Server,
    readonly boundPort: number,
  ) {}

  static async start(o: RaftGroupOptions): Promise<RaftGroup> {
    const { storage, state: recovered } = await openDiskStorage(path.join(o.dataDir, 'raft'));
    for (const w of recovered.warnings) o.logger.warn(`raft storage: ${w}`);
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
        restore: (data) => store.restore(data),
      },
      transport: (handlers) => (transport = new GrpcTransport({
        id: o.id,
        credentials: o.clientCredentials ?? grpc.credentials.createInsecure(),
        handlers,
      })),
      bootstrap: o.bootstrap,
      tickMs: o.tickMs,
      electionTicks: o.electionTicks,
      snapshotInterval: o.snapshotInterval,
      // Keep at most half an interval of entries behind a snapshot for slow followers.
      keepEntriesAfterSnapshot: o.snapshotInterval === undefined ? undefined : Math.min(DEFAULT_KEEP_ENTRIES, Math.floor(o.snapshotInterval / 2)),
      logger: o.logger.child('raft'),
    });
    await node.start();
    const server = new grpc.Server({ 'grpc.max_receive_message_length': 64 << 20 });
    server.addService(RaftService, transport!.service());
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(o.listenAddr, o.serverCredentials ?? grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(new Error(`cannot listen on ${o.listenAddr} for the cluster port: ${err.message}`)) : resolve(p)));
    o.logger.info('raft member started', { id: o.id, listen: o.listenAddr, advertise: o.advertiseAddr });
    return new RaftGroup(node, store, server, port);
  }

  async stop(): Promise<void> {
    this.node.stop();
    this.store.close();
    await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
  }
}
