// A small cluster to resolve against: two overlay networks and ingress.
//   front (n-front): web (VIP 10.0.1.2, alias www), api (VIP 10.0.1.3)
//   back  (n-back):  web (VIP 10.0.2.2), db (dnsrr, alias database), cache (dnsrr, only a starting task)
//   ingress:         web (VIP 10.255.0.2) — carries no names
import { EndpointMode, NetworkView, type NetworkEndpoint, type ServiceEndpoint } from '@tswarm/api';

export const FRONT = 'n-front';
export const BACK = 'n-back';
export const INGRESS = 'n-ingress';

export function endpoint(
  networkId: string, serviceId: string, taskName: string, addr: string,
  opts: { active?: boolean; aliases?: string[] } = {},
): NetworkEndpoint {
  return {
    networkId, serviceId, taskName, addr,
    taskId: taskName.split('.').pop()!, nodeId: 'node1',
    aliases: opts.aliases ?? [], active: opts.active ?? true, vni: 0,
  };
}

export function service(
  serviceId: string, name: string, vips: Record<string, string>, mode = EndpointMode.ENDPOINT_MODE_VIP,
): ServiceEndpoint {
  return {
    serviceId, name, mode, ports: [],
    virtualIps: Object.entries(vips).map(([networkId, addr]) => ({ networkId, addr })),
  };
}

export function network(id: string, name: string, ingress = false): NetworkView['networks'][number] {
  return NetworkView.fromPartial({ networks: [{ id, spec: { name, driver: 'overlay', ingress } }] }).networks[0]!;
}

export function clusterView(extra: { endpoints?: NetworkEndpoint[]; services?: ServiceEndpoint[] } = {}): NetworkView {
  return NetworkView.fromPartial({
    networks: [network(FRONT, 'front'), network(BACK, 'back'), network(INGRESS, 'ingress', true)],
    services: [
      service('s-web', 'web', { [FRONT]: '10.0.1.2/24', [BACK]: '10.0.2.2/24', [INGRESS]: '10.255.0.2/16' }),
      service('s-api', 'api', { [FRONT]: '10.0.1.3/24' }),
      service('s-db', 'db', {}, EndpointMode.ENDPOINT_MODE_DNSRR),
      service('s-cache', 'cache', {}, EndpointMode.ENDPOINT_MODE_DNSRR),
      ...(extra.services ?? []),
    ],
    endpoints: [
      endpoint(FRONT, 's-web', 'web.1.aaa', '10.0.1.10/24', { aliases: ['www'] }),
      endpoint(FRONT, 's-web', 'web.2.bbb', '10.0.1.11/24', { aliases: ['www'] }),
      endpoint(FRONT, 's-web', 'web.3.ccc', '10.0.1.12/24', { aliases: ['www'], active: false }),
      endpoint(BACK, 's-web', 'web.1.aaa', '10.0.2.10/24'),
      endpoint(BACK, 's-web', 'web.2.bbb', '10.0.2.11/24'),
      endpoint(INGRESS, 's-web', 'web.1.aaa', '10.255.0.10/16'),
      endpoint(FRONT, 's-api', 'api.1.ddd', '10.0.1.20/24'),
      endpoint(BACK, 's-db', 'db.1.eee', '10.0.2.30/24', { aliases: ['database'] }),
      endpoint(BACK, 's-db', 'db.2.fff', '10.0.2.31/24', { aliases: ['database'] }),
      endpoint(BACK, 's-db', 'db.3.ggg', '10.0.2.32/24', { aliases: ['database'] }),
      endpoint(BACK, 's-db', 'db.4.hhh', '10.0.2.33/24', { aliases: ['database'], active: false }),
      endpoint(BACK, 's-cache', 'cache.1.iii', '10.0.2.40/24', { active: false }),
      ...(extra.endpoints ?? []),
    ],
  });
}

/** A deterministic [0,1) sequence for dnsrr order. */
export function seq(...xs: number[]): () => number {
  let i = 0;
  return () => xs[i++ % xs.length]!;
}
