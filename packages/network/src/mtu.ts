// The overlay MTU rule. Pure.
//
// VXLAN over IPv4 adds 50 bytes (outer Ethernet 14 + IPv4 20 + UDP 8 + VXLAN 8; RFC 7348 §5),
// so every overlay interface gets the underlay MTU − 50. The underlay MTU is the MTU of the
// device that carries this node's underlay address (NodeEndpoint.addr); failing that, the
// default route's device; failing that, 1500.

export const VXLAN_OVERHEAD_BYTES = 50;
export const DEFAULT_UNDERLAY_MTU = 1500;

/** One link of `ip -j addr show`, reduced to what the rule needs. */
export interface LinkAddrs {
  readonly ifname: string;
  readonly mtu: number;
  readonly addrs: readonly string[]; // IPv4 addresses, no prefix
}

export function underlayMtu(links: readonly LinkAddrs[], underlayAddr: string | undefined, defaultRouteDev: string | undefined): number {
  const byAddr = underlayAddr ? links.find((l) => l.addrs.includes(underlayAddr)) : undefined;
  if (byAddr && byAddr.mtu > 0) return byAddr.mtu;
  const byRoute = defaultRouteDev ? links.find((l) => l.ifname === defaultRouteDev) : undefined;
  if (byRoute && byRoute.mtu > 0) return byRoute.mtu;
  return DEFAULT_UNDERLAY_MTU;
}

export function overlayMtu(underlay: number): number {
  return underlay - VXLAN_OVERHEAD_BYTES;
}
