// Network allocation: subnet, gateway, IP range and VNI for a new overlay network.
//
// Pure (STYLE 1): the caller passes every existing network and the cluster's address
// pools as read in its store transaction, and writes the result in that same
// transaction. Nothing is reserved between calls; the existing networks *are* the
// allocation state, so a removed network frees its subnet and VNI with no bookkeeping.
import { CLUSTER_VNI_MAX, CLUSTER_VNI_MIN, type IPAMConfig, type Network } from '@tswarm/api';
import {
  blockSize,
  containsAddr,
  containsCidr,
  formatCidr,
  formatIPv4,
  lastAddr,
  overlaps,
  parseCidr,
  parseIPv4,
  type Cidr,
} from './cidr.js';

/**
 * VXLAN network identifiers are 24 bits (RFC 7348 §5). Like Docker, ours start at 4096; the
 * top 2^20 are the nodes' own (@tswarm/api vni.ts).
 */
export const MIN_VNI = CLUSTER_VNI_MIN;
export const MAX_VNI = CLUSTER_VNI_MAX;
/**
 * The longest prefix a network may have: a /30 still holds a gateway and one task.
 * /31 and /32 have no room for both next to network and broadcast addresses.
 */
export const MAX_SUBNET_PREFIX = 30;

export interface NetworkAllocationInput {
  /** What the user asked for (--subnet, --gateway, --ip-range); empty fields are allocated. */
  requested: IPAMConfig | undefined;
  /** Every network of the cluster, with the subnet and VNI allocated to it. */
  existing: readonly Network[];
  /** The cluster's default address pools (CIDR strings), cut into /subnetSize blocks in order. */
  pools: readonly string[];
  subnetSize: number;
  /** VNIs to allocate from; default MIN_VNI–MAX_VNI (tests narrow it to reach exhaustion). */
  vniRange?: { min: number; max: number };
}

export interface NetworkAllocation {
  ipam: IPAMConfig;
  vni: number;
}

/**
 * Why an allocation was refused: `invalid` — the request itself is wrong; `conflict` —
 * it collides with an existing network; `exhausted` — the pool or VNI space is used up.
 * `message` is one line for the user.
 */
export type AllocationFailure = { ok: false; code: 'invalid' | 'conflict' | 'exhausted'; message: string };
export type AllocationResult = ({ ok: true } & NetworkAllocation) | AllocationFailure;

const fail = (code: AllocationFailure['code'], message: string): AllocationFailure => ({ ok: false, code, message });

/** The subnets in use, each with the network that holds it (unparsable ones are skipped). */
function usedSubnets(existing: readonly Network[]): Array<{ cidr: Cidr; name: string }> {
  const used: Array<{ cidr: Cidr; name: string }> = [];
  for (const n of existing) {
    const p = parseCidr(n.ipam?.subnet ?? '');
    if (p.ok) used.push({ cidr: p.cidr, name: n.spec?.name || n.id });
  }
  return used;
}

export function allocateNetwork(input: NetworkAllocationInput): AllocationResult {
  const req = input.requested;
  const used = usedSubnets(input.existing);
  if (!req?.subnet && (req?.gateway || req?.ipRange)) {
    return fail('invalid', 'a gateway or IP range needs a subnet to lie in; give --subnet as well');
  }

  let subnet: Cidr;
  if (req?.subnet) {
    const p = parseCidr(req.subnet);
    if (!p.ok) return fail('invalid', `invalid subnet ${req.subnet}: ${p.reason}`);
    subnet = p.cidr;
    if (subnet.prefix > MAX_SUBNET_PREFIX) {
      return fail('invalid', `invalid subnet ${req.subnet}: a network needs at least a /${MAX_SUBNET_PREFIX} (room for a gateway and a task)`);
    }
    const clash = used.find((u) => overlaps(u.cidr, subnet));
    if (clash) {
      return fail('conflict', `subnet ${formatCidr(subnet)} overlaps network "${clash.name}" (${formatCidr(clash.cidr)}); choose a subnet outside it`);
    }
  } else {
    const found = subnetFromPools(input.pools, input.subnetSize, used.map((u) => u.cidr));
    if (!found.ok) return found;
    subnet = found.cidr;
  }

  const gateway = chooseGateway(subnet, req?.gateway ?? '');
  if (typeof gateway !== 'number') return gateway;

  let ipRange = '';
  if (req?.ipRange) {
    const p = parseCidr(req.ipRange);
    if (!p.ok) return fail('invalid', `invalid IP range ${req.ipRange}: ${p.reason}`);
    if (!containsCidr(subnet, p.cidr)) return fail('invalid', `IP range ${req.ipRange} is not inside subnet ${formatCidr(subnet)}`);
    ipRange = formatCidr(p.cidr);
  }

  const range = input.vniRange ?? { min: MIN_VNI, max: MAX_VNI };
  const vni = freeVni(input.existing, range.min, range.max);
  if (vni === undefined) return fail('exhausted', `no VXLAN ID left (${range.min}-${range.max} are all in use); remove unused networks`);
  return { ok: true, ipam: { subnet: formatCidr(subnet), gateway: formatIPv4(gateway), ipRange }, vni };
}

/** The requested gateway checked, or the subnet's first usable address (Docker's default). */
function chooseGateway(subnet: Cidr, requested: string): number | AllocationFailure {
  if (!requested) return subnet.addr + 1;
  const ip = parseIPv4(requested);
  if (ip === undefined) return fail('invalid', `invalid gateway ${requested}: expected an IPv4 address, e.g. 10.10.0.1`);
  if (!containsAddr(subnet, ip)) return fail('invalid', `gateway ${requested} is not inside subnet ${formatCidr(subnet)}`);
  if (ip === subnet.addr || ip === lastAddr(subnet)) {
    return fail('invalid', `gateway ${requested} is the network or broadcast address of ${formatCidr(subnet)}; use an address between them`);
  }
  return ip;
}

/**
 * The first /size block, pool by pool in order, that overlaps no used subnet. A clash
 * jumps past the used block (aligned to the block size) instead of stepping one block at
 * a time, so a 10.0.0.0/8 pool costs O(networks²) at worst, not 65,536 probes.
 */
export function subnetFromPools(pools: readonly string[], size: number, used: readonly Cidr[]): { ok: true; cidr: Cidr } | AllocationFailure {
  for (const text of pools) {
    const p = parseCidr(text);
    if (!p.ok) return fail('invalid', `the default address pool ${text} is invalid: ${p.reason}`);
    const pool = p.cidr;
    if (size < pool.prefix || size > MAX_SUBNET_PREFIX) continue;
    const step = blockSize(size);
    const end = lastAddr(pool);
    let candidate = pool.addr;
    while (candidate + step - 1 <= end) {
      const block: Cidr = { addr: candidate, prefix: size };
      const clash = used.find((u) => overlaps(u, block));
      if (!clash) return { ok: true, cidr: block };
      const next = Math.max(candidate + step, lastAddr(clash) + 1);
      candidate = Math.ceil(next / step) * step;
    }
  }
  const plural = pools.length === 1 ? 'pool' : 'pools';
  return fail('exhausted', `no subnet left in the default address ${plural} ${pools.join(', ')} for /${size} networks; remove unused networks or give --subnet`);
}

/** The smallest VNI ≥ MIN_VNI no network holds, so freed VNIs are reused and IDs stay small. */
export function freeVni(existing: readonly Network[], min = MIN_VNI, max = MAX_VNI): number | undefined {
  const taken = new Set(existing.map((n) => n.vni));
  for (let v = min; v <= max; v++) if (!taken.has(v)) return v;
  return undefined;
}
