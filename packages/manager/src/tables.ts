import { Cluster, encodeMessage, Network, Node, PublishMode, Service, Task, type EncodableMessage } from '@tswarm/api';
import { Codec, defineTable } from '@tswarm/store';

/** A protobuf message type as ts-proto generates it, used as a store codec. */
export function protoCodec<T>(m: EncodableMessage<T> & { decode(b: Uint8Array): T }): Codec<T> {
  return { encode: (o) => encodeMessage(m, o), decode: (b) => m.decode(b) };
}

/**
 * The cluster's tables. Names are unique case-insensitively (Swarm lower-cases them),
 * enforced by unique indexes at apply time on every replica.
 */
export const nodesTable = defineTable<Node>('nodes', protoCodec(Node))
  .index('byHostname', (n) => n.description?.hostname.toLowerCase() || undefined);

export const servicesTable = defineTable<Service>('services', protoCodec(Service))
  .index('byName', (s) => s.spec?.name.toLowerCase() || undefined, { unique: true })
  // Checked again at apply time, so two managers choosing the same free port at once
  // cannot both win (the control API picks ports from its local view).
  .index('byPublishedPort', (s) => (s.endpoint?.ports ?? [])
    .filter((p) => p.publishMode === PublishMode.PUBLISH_MODE_INGRESS && p.publishedPort > 0)
    .map((p) => `${p.protocol}/${p.publishedPort}`), { unique: true });

export const tasksTable = defineTable<Task>('tasks', protoCodec(Task))
  .index('byService', (t) => t.serviceId || undefined)
  .index('byNode', (t) => t.nodeId || undefined)
  .index('bySlot', (t) => (t.serviceId ? `${t.serviceId}/${t.slot}/${t.slot === 0 ? t.nodeId : ''}` : undefined));

export const networksTable = defineTable<Network>('networks', protoCodec(Network))
  .index('byName', (n) => n.spec?.name.toLowerCase() || undefined, { unique: true })
  // The allocator decides from the local view; these make a concurrent duplicate fail at apply.
  .index('byVni', (n) => (n.vni ? String(n.vni) : undefined), { unique: true })
  .index('bySubnet', (n) => n.ipam?.subnet || undefined, { unique: true });

/** Exactly one object, keyed by the cluster ID: CA, join tokens and cluster-wide settings. */
export const clusterTable = defineTable<Cluster>('cluster', protoCodec(Cluster));

export const CLUSTER_TABLES = [nodesTable, servicesTable, tasksTable, networksTable, clusterTable] as const;
