// IPv4 arithmetic for the data plane: addresses as unsigned 32-bit numbers, CIDR parsing,
// containment and overlap. Pure; IPv4 only, like the allocator (ARCHITECTURE "Networks").
// Throws an Error naming the bad text when given something that is not IPv4.

export interface Cidr {
  /** The address as written (host bits kept), unsigned 32-bit. */
  readonly ip: number;
  /** Prefix length, 0..32. */
  readonly prefix: number;
}

export function parseIp(text: string): number {
  const parts = text.split('.');
  if (parts.length !== 4) throw new Error(`not an IPv4 address: "${text}"`);
  let n = 0;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) throw new Error(`not an IPv4 address: "${text}"`);
    n = n * 256 + Number(p);
  }
  return n >>> 0;
}

export function formatIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/** "10.0.1.5/24" → { ip, prefix }; a bare address is a /32. */
export function parseCidr(text: string): Cidr {
  const slash = text.indexOf('/');
  if (slash < 0) return { ip: parseIp(text), prefix: 32 };
  const prefix = Number(text.slice(slash + 1));
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) throw new Error(`bad prefix length in "${text}"`);
  return { ip: parseIp(text.slice(0, slash)), prefix };
}

export function maskOf(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function networkOf(c: Cidr): number {
  return (c.ip & maskOf(c.prefix)) >>> 0;
}

/** Number of addresses in the block (2^(32-prefix)). */
export function sizeOf(c: Cidr): number {
  return 2 ** (32 - c.prefix);
}

export function cidrContains(block: Cidr, ip: number): boolean {
  return ((ip & maskOf(block.prefix)) >>> 0) === networkOf(block);
}

export function cidrOverlaps(a: Cidr, b: Cidr): boolean {
  const p = Math.min(a.prefix, b.prefix);
  return ((a.ip & maskOf(p)) >>> 0) === ((b.ip & maskOf(p)) >>> 0);
}

/** "10.0.1.5/24" → "10.0.1.5" (the address part only). */
export function addrOf(cidrText: string): string {
  const slash = cidrText.indexOf('/');
  return slash < 0 ? cidrText : cidrText.slice(0, slash);
}

/** Canonical block text: "172.20.0.1/16" → "172.20.0.0/16". */
export function formatBlock(c: Cidr): string {
  return `${formatIp(networkOf(c))}/${c.prefix}`;
}
