import { BadValue } from './parse.js';

/**
 * IPv4 address flags, checked for form only: whether a subnet is free, or a gateway lies
 * in its subnet, is the manager's call (it sees the other networks). Host bits and
 * prefix lengths are checked there too, with the network the user probably meant.
 */
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function parseIPv4Addr(v: string): string {
  const m = IPV4.exec(v);
  if (!m || m.slice(1, 5).some((o) => Number(o) > 255)) throw new BadValue('expected an IPv4 address, e.g. 10.10.0.1');
  return v;
}

/** `A.B.C.D/N`, 1 ≤ N ≤ 32: what `--default-addr-pool`, `--subnet` and `--ip-range` take. */
export function parseCidr(v: string): string {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(v);
  const ok = m && IPV4.test(m[1]!) && m[1]!.split('.').every((o) => Number(o) <= 255) && Number(m[2]) >= 1 && Number(m[2]) <= 32;
  if (!ok) throw new BadValue('expected an IPv4 network in CIDR form, e.g. 10.20.0.0/16');
  return v;
}
