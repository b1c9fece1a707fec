import { macForIPv4, type Network, type NetworkEndpoint, type NodeEndpoint } from '@tswarm/api';
import { goJsonTime } from './docker-json.js';
import { jsonLines, naturalCompare, table, truncateId } from './table.js';

/** Every tswarm network is cluster-wide; Docker calls that scope "swarm". */
export const NETWORK_SCOPE = 'swarm';
/** Where Docker's overlay driver shows a network's VNI in `network inspect` Options. */
export const VXLANID_OPTION = 'com.docker.network.driver.overlay.vxlanid_list';

const labelList = (labels: { [k: string]: string } | undefined) =>
  Object.entries(labels ?? {}).sort(([a], [b]) => naturalCompare(a, b)).map(([k, v]) => `${k}=${v}`).join(',');

/** `network ls` rows: NETWORK ID NAME DRIVER SCOPE, sorted by name like Docker. */
export function renderNetworkList(networks: Network[], opts: { quiet: boolean; format: 'json' | 'table'; noTrunc?: boolean }): string[] {
  const sorted = [...networks].sort((a, b) => naturalCompare(a.spec?.name ?? '', b.spec?.name ?? ''));
  const id = (n: Network) => (opts.noTrunc ? n.id : truncateId(n.id));
  if (opts.quiet) return sorted.map(id);
  const rows = sorted.map((n) => ({
    ID: id(n),
    Name: n.spec?.name ?? '',
    Driver: n.spec?.driver ?? '',
    Scope: NETWORK_SCOPE,
    Internal: String(Boolean(n.spec?.internal)),
    IPv6: 'false',
    Labels: labelList(n.spec?.labels),
    CreatedAt: n.meta?.createdAtMs ? new Date(n.meta.createdAtMs).toISOString() : '',
  }));
  if (opts.format === 'json') return jsonLines(rows);
  return table([['NETWORK ID', 'NAME', 'DRIVER', 'SCOPE'], ...rows.map((r) => [r.ID, r.Name, r.Driver, r.Scope])]);
}

/**
 * `network inspect` in Docker's shape (NetworkResource), so scripts written for
 * `docker network inspect` find Subnet/Gateway/Options where they expect them. Containers
 * lists every task endpoint on the network, cluster-wide (Docker shows only the local
 * node's; the managers know them all), keyed by task ID; Peers the nodes holding them.
 */
export function inspectNetwork(n: Network, endpoints: readonly NetworkEndpoint[] = [], peers: readonly NodeEndpoint[] = []): Record<string, unknown> {
  const containers: Record<string, unknown> = {};
  for (const e of endpoints) {
    containers[e.taskId] = {
      Name: e.taskName, EndpointID: e.taskId, MacAddress: macForIPv4(e.addr), IPv4Address: e.addr, IPv6Address: '',
      Node: e.nodeId, Active: e.active, ...(e.aliases.length ? { Aliases: [...e.aliases] } : {}),
    };
  }
  const ipam = n.ipam;
  const config: Record<string, string> = { Subnet: ipam?.subnet ?? '', Gateway: ipam?.gateway ?? '' };
  if (ipam?.ipRange) config['IPRange'] = ipam.ipRange;
  return {
    Name: n.spec?.name ?? '',
    Id: n.id,
    Created: goJsonTime(n.meta?.createdAtMs),
    Scope: NETWORK_SCOPE,
    Driver: n.spec?.driver ?? '',
    EnableIPv6: false,
    IPAM: { Driver: 'default', Options: null, Config: ipam?.subnet ? [config] : [] },
    Internal: Boolean(n.spec?.internal),
    Attachable: Boolean(n.spec?.attachable),
    Ingress: Boolean(n.spec?.ingress),
    ConfigFrom: { Network: '' },
    ConfigOnly: false,
    Containers: containers,
    Options: { [VXLANID_OPTION]: String(n.vni), ...(n.spec?.driverOpts ?? {}) },
    Labels: { ...(n.spec?.labels ?? {}) },
    Peers: peers.map((p) => ({ Name: p.nodeId, IP: p.addr })),
  };
}
