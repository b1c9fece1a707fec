// IPv4 addresses and CIDR blocks as unsigned 32-bit numbers. Small on purpose: the
// allocator needs parse, format, containment and overlap, nothing else. IPv6 is out of
// scope until the data plane carries it.

/** An IPv4 network: `addr` is the first address (host bits zero), 0 ≤ prefix ≤ 32. */
export interface Cidr {
  readonly addr: number;
  readonly prefix: number;
}

const OCTET = '(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4_RE = new RegExp(`^${OCTET}\\.${OCTET}\\.${OCTET}\\.${OCTET}$`);

/** "10.0.1.2" → 0x0a000102; undefined for anything but dotted-quad IPv4 (no leading zeros). */
export function parseIPv4(s: string): number | undefined {
  const m = IPV4_RE.exec(s);
  if (!m) return undefined;
  return ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
}

export function formatIPv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** Number of addresses in a block: 2^(32 − prefix), exact as a double. */
export function blockSize(prefix: number): number {
  return 2 ** (32 - prefix);
}

/** The last address of the block (its broadcast address for prefixes below 31). */
export function lastAddr(c: Cidr): number {
  return c.addr + blockSize(c.prefix) - 1;
}

export type CidrParse = { ok: true; cidr: Cidr } | { ok: false; reason: string };

/**
 * "10.0.1.0/24" → a Cidr. Host bits must be zero: "10.0.1.5/24" is refused with the
 * network it probably meant, rather than silently truncated (a typo would otherwise
 * allocate a different range than the user believes).
 */
export function parseCidr(s: string): CidrParse {
  const slash = s.indexOf('/');
  const ip = parseIPv4(slash < 0 ? s : s.slice(0, slash));
  const prefixText = slash < 0 ? '' : s.slice(slash + 1);
  if (ip === undefined || !/^(3[0-2]|[12]?\d)$/.test(prefixText)) {
    return { ok: false, reason: 'expected an IPv4 network in CIDR form, e.g. 10.10.0.0/16' };
  }
  const prefix = Number(prefixText);
  const addr = networkOf(ip, prefix);
  if (addr !== ip) return { ok: false, reason: `host bits are set; the network is ${formatCidr({ addr, prefix })}` };
  return { ok: true, cidr: { addr, prefix } };
}

/** The network address of `ip` in a /prefix block. */
export function networkOf(ip: number, prefix: number): number {
  return prefix === 0 ? 0 : (ip & (~0 << (32 - prefix))) >>> 0;
}

export function formatCidr(c: Cidr): string {
  return `${formatIPv4(c.addr)}/${c.prefix}`;
}

export function containsAddr(c: Cidr, ip: number): boolean {
  return ip >= c.addr && ip <= lastAddr(c);
}

/** `inner` lies wholly inside `outer`. */
export function containsCidr(outer: Cidr, inner: Cidr): boolean {
  return inner.prefix >= outer.prefix && containsAddr(outer, inner.addr);
}

/** Aligned blocks either nest or are disjoint, so overlap = one contains the other's start. */
export function overlaps(a: Cidr, b: Cidr): boolean {
  return containsAddr(a, b.addr) || containsAddr(b, a.addr);
}
