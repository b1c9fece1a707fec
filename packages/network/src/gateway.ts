// The gateway bridge's address plan. Pure.
//
// Contract: the gateway subnet is node-local (it never leaves this node's namespace: traffic
// out of it is masqueraded), so each node allocates from it alone. `.1` (the network address
// + 1) is the bridge itself — the containers' default gateway and the DNS resolver's address;
// `.2` is kept for the ingress sandbox. GatewayAllocator hands out the rest, lowest first,
// and learns addresses found in the kernel (adopted containers) through `reserve`.
import { cidrContains, cidrOverlaps, formatBlock, formatIp, networkOf, parseCidr, sizeOf, type Cidr } from './ipv4.js';

/** Candidates for the default gateway subnet, in order (Docker's docker_gwbridge picks alike). */
export const GATEWAY_SUBNET_CANDIDATES: readonly string[] = Array.from({ length: 12 }, (_, i) => `172.${20 + i}.0.0/16`);

/**
 * The first candidate that overlaps none of `routeDestinations` (CIDR texts, "default"
 * ignored). Throws when all are taken, saying how to choose one.
 */
export function pickGatewaySubnet(routeDestinations: readonly string[]): string {
  const routes = routeDestinations.filter((d) => d !== 'default' && /^\d/.test(d)).map(parseCidr);
  for (const cand of GATEWAY_SUBNET_CANDIDATES) {
    const c = parseCidr(cand);
    if (!routes.some((r) => cidrOverlaps(r, c))) return cand;
  }
  throw new Error(`no free gateway subnet: every one of ${GATEWAY_SUBNET_CANDIDATES[0]} … ${GATEWAY_SUBNET_CANDIDATES[GATEWAY_SUBNET_CANDIDATES.length - 1]} overlaps a route; choose one with the gateway subnet option`);
}

export interface GatewayPlan {
  /** Canonical block, e.g. "172.20.0.0/16". */
  readonly subnet: string;
  readonly prefix: number;
  /** The bridge's address (network + 1): default gateway and DNS for every container. */
  readonly bridgeIp: string;
  /** The ingress sandbox's address (network + 2). */
  readonly ingressIp: string;
}

export function gatewayPlan(subnet: string): GatewayPlan {
  const c = parseCidr(subnet);
  if (c.prefix > 29) throw new Error(`gateway subnet ${subnet} is too small (at most /29)`);
  const net = networkOf(c);
  return { subnet: formatBlock(c), prefix: c.prefix, bridgeIp: formatIp(net + 1), ingressIp: formatIp(net + 2) };
}

/** Node-local allocator of container gateway addresses. Invariant: `used` ⊆ usable hosts. */
export class GatewayAllocator {
  private readonly block: Cidr;
  private readonly first: number; // network + 3: .1 bridge, .2 ingress sandbox
  private readonly last: number; // broadcast − 1
  private readonly used = new Set<number>();
  private next: number;

  constructor(subnet: string) {
    this.block = parseCidr(subnet);
    const net = networkOf(this.block);
    this.first = net + 3;
    this.last = net + sizeOf(this.block) - 2;
    this.next = this.first;
  }

  /** Marks an address found in use (an adopted container). False if outside the pool. */
  reserve(ip: string): boolean {
    const n = parseCidr(ip).ip;
    if (!cidrContains(this.block, n) || n < this.first || n > this.last) return false;
    this.used.add(n);
    return true;
  }

  /**
   * The next free address after the last one handed out (wrapping), so a just-released
   * address is not reused at once while stale ARP entries may still point at it.
   */
  allocate(): string {
    const span = this.last - this.first + 1;
    for (let i = 0; i < span; i++) {
      const n = this.first + ((this.next - this.first + i) % span);
      if (!this.used.has(n)) {
        this.used.add(n);
        this.next = n + 1 > this.last ? this.first : n + 1;
        return formatIp(n);
      }
    }
    throw new Error(`gateway subnet ${formatBlock(this.block)} is full (${span} containers on this node)`);
  }

  release(ip: string): void {
    this.used.delete(parseCidr(ip).ip);
  }

  get inUse(): number {
    return this.used.size;
  }
}
