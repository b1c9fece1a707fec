/**
 * The MAC address of an endpoint, derived from its IPv4 address as Docker does:
 * 02:42 (locally administered, unicast) followed by the four address bytes. Deriving it
 * means nothing has to store or distribute MACs, and an address reused by a new task keeps
 * every peer's neighbour entry for it correct. The CLI shows it; the data plane programs it.
 */
export function macForIPv4(addr: string): string {
  const ip = addr.split('/')[0]!;
  const bytes = ip.split('.').map((b) => Number(b));
  if (bytes.length !== 4 || bytes.some((b) => !Number.isInteger(b) || b < 0 || b > 255)) {
    throw new Error(`cannot derive a MAC address from "${addr}": expected an IPv4 address`);
  }
  return ['02', '42', ...bytes.map((b) => b.toString(16).padStart(2, '0'))].join(':');
}
