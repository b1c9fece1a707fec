import { randomBytes } from 'node:crypto';
import { Cluster, Node, NodeAvailability, NodeDescription, NodeRole, NodeState } from '@tswarm/api';
import { makeJoinToken, RootCA, rootCADigest } from '@tswarm/ca';
import type { Store } from '@tswarm/store';
import { clusterTable, nodesTable } from './tables.js';

/** Swarm's defaults: heartbeats every 5 s, a node is down after 3 missed ones; 90-day certs. */
export const DEFAULT_HEARTBEAT_PERIOD_MS = 5_000;
export const DEFAULT_HEARTBEAT_MISSES = 3;
export const DEFAULT_NODE_CERT_EXPIRY_MS = 90 * 24 * 3600 * 1000;
export const DEFAULT_TASK_HISTORY_LIMIT = 5;
export const DEFAULT_ADDR_POOL = ['10.0.0.0/8'];
export const DEFAULT_SUBNET_SIZE = 24;
export const DEFAULT_DATA_PATH_PORT = 4789;

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
  nowMs: number;
}

/**
 * Writes the swarm's first objects in one Raft entry: the cluster (root CA, join tokens,
 * settings) and the first manager's node. Runs once, on the node that ran `init`.
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
  };
  await store.update((tx) => {
    tx.create(clusterTable, cluster);
    tx.create(nodesTable, node);
  });
  return cluster;
}
