import { randomBytes } from 'node:crypto';
import { Cluster, Network, Node, NodeAvailability, NodeDescription, NodeRole, NodeState } from '@tswarm/api';
import { makeJoinToken, RootCA, rootCADigest } from '@tswarm/ca';
import type { Store } from '@tswarm/store';
import { allocateNetwork } from './allocator/index.js';
import { newObjectId } from './ids.js';
import { clusterTable, networksTable, nodesTable } from './tables.js';

/** Swarm's defaults: heartbeats every 5 s, a node is down after 3 missed ones; 90-day certs. */
export const DEFAULT_HEARTBEAT_PERIOD_MS = 5_000;
export const DEFAULT_HEARTBEAT_MISSES = 3;
export const DEFAULT_NODE_CERT_EXPIRY_MS = 90 * 24 * 3600 * 1000;
export const DEFAULT_TASK_HISTORY_LIMIT = 5;
export const DEFAULT_ADDR_POOL = ['10.0.0.0/8'];
export const DEFAULT_SUBNET_SIZE = 24;
export const DEFAULT_DATA_PATH_PORT = 4789;
/** The routing mesh's network, made at init like Docker's. */
export const INGRESS_NETWORK_NAME = 'ingress';

export interface ClusterInit {
  clusterId: string;
  nodeId: string;
  rootCA: RootCA;
  advertiseAddr: string;
  description: NodeDescription;
  defaultAddrPool?: string[];
  subnetSize?: number;
  dataPathPort?: number;
  heartbeatPeriodMs?: number;
  /** ID of the ingress network; default a fresh object ID. */
  ingressNetworkId?: string;
  nowMs: number;
}

/**
 * Writes the swarm's first objects in one Raft entry: the cluster (root CA, join tokens,
 * settings), the first manager's node and the `ingress` network. Runs once, on the node
 * that ran `init`. Fails, writing nothing, when the address pool cannot hold a network.
 */
export async function createCluster(store: Store, c: ClusterInit): Promise<Cluster> {
  const meta = { version: 0, createdAtMs: c.nowMs, updatedAtMs: c.nowMs };
  const cluster: Cluster = {
    id: c.clusterId,
    meta,
    spec: {
      name: 'default',
      heartbeatPeriodMs: c.heartbeatPeriodMs ?? DEFAULT_HEARTBEAT_PERIOD_MS,
      heartbeatMisses: DEFAULT_HEARTBEAT_MISSES,
      nodeCertExpiryMs: DEFAULT_NODE_CERT_EXPIRY_MS,
      taskHistoryLimit: DEFAULT_TASK_HISTORY_LIMIT,
    },
    rootCa: { caCertPem: c.rootCA.certPem, caKeyPem: c.rootCA.keyPem, digest: rootCADigest(c.rootCA.certPem) },
    joinTokens: { worker: makeJoinToken(c.rootCA.certPem, randomBytes), manager: makeJoinToken(c.rootCA.certPem, randomBytes) },
    defaultAddrPool: c.defaultAddrPool?.length ? c.defaultAddrPool : DEFAULT_ADDR_POOL,
    subnetSize: c.subnetSize || DEFAULT_SUBNET_SIZE,
    dataPathPort: c.dataPathPort || DEFAULT_DATA_PATH_PORT,
  };
  const node: Node = {
    id: c.nodeId,
    meta,
    spec: { desiredRole: NodeRole.NODE_ROLE_MANAGER, availability: NodeAvailability.NODE_AVAILABILITY_ACTIVE, labels: {} },
    description: c.description,
    status: { state: NodeState.NODE_STATE_UNKNOWN, message: 'initialized the swarm', addr: c.advertiseAddr.split(':')[0] ?? '' },
    managerStatus: { raftId: c.nodeId, addr: c.advertiseAddr, leader: true, reachability: 'reachable' },
    role: NodeRole.NODE_ROLE_MANAGER,
    attachments: [],
  };
  const ingress = ingressNetwork(c.ingressNetworkId ?? newObjectId(), cluster, meta);
  await store.update((tx) => {
    tx.create(clusterTable, cluster);
    tx.create(nodesTable, node);
    tx.create(networksTable, ingress);
  });
  return cluster;
}

/**
 * The ingress network, allocated from the pool like any other (so with the default pool
 * it gets 10.0.0.0/24 and VNI 4096, as Docker's does). The store is empty at init, so
 * nothing can be in its way but a pool too small for one network.
 */
function ingressNetwork(id: string, cluster: Cluster, meta: Network['meta']): Network {
  const alloc = allocateNetwork({ requested: undefined, existing: [], pools: cluster.defaultAddrPool, subnetSize: cluster.subnetSize });
  if (!alloc.ok) throw new Error(`cannot create the ingress network: ${alloc.message}; choose --default-addr-pool and --default-addr-pool-mask-length to fit`);
  return {
    id,
    meta,
    spec: { name: INGRESS_NETWORK_NAME, driver: 'overlay', labels: {}, driverOpts: {}, ipam: undefined, attachable: false, ingress: true, internal: false },
    vni: alloc.vni,
    ipam: alloc.ipam,
  };
}
