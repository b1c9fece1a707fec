// An rtnetlink writer for the overlay's per-container entries: VXLAN forwarding entries (FDB),
// neighbour entries and /32 routes, sent from this process into a named network namespace by
// the addon `tswarm_netlink` (native/netlink.c) — no `bridge -batch` / `ip -batch` spawn.
//
// Pure part: each encoder returns a NetlinkOp, the message `bridge` or `ip` would send for the
// same command (bytes compared with strace; see test/netlink.test.ts), with a label for errors.
// encodeRequests lays ops end to end with seq numbers 1..n. Integers are in host order, which
// is little-endian on every host tswarm runs on (nativeNetlink refuses a big-endian host);
// addresses in NDA_DST / RTA_* are in network order, as the kernel wants them.
//
// I/O part: a NetlinkWriter, made by nativeNetlink() (or netlinkWriter(addon) in tests).
// Contract of exchange(ns, ops, opts):
// - runs synchronously in namespace /run/netns/NS (measured: 40 µs for a container's three
//   ops, 0.7 ms for a hundred — the kernel's own work — against ≈ 30 ms for the two spawns);
// - each op is one netlink message that the kernel takes or refuses on its own (no transaction);
// - without `force`, ops after the first failing one are not sent, as `ip -batch` stops at its
//   first failing line (Kernel.ipBatch): the addon then sends one message per sendmsg (0.8 ms
//   instead of 0.7 for a hundred); with `force` every op is sent, as `ip -force -batch`;
// - `ignoreMissing`: a delete whose entry is already gone (ENOENT, or ESRCH for a route) counts
//   as done and does not stop the rest; without it, it fails with `missing: true`;
// - any failure throws one NetlinkError naming the namespace, the first failing op and the errno
//   text, with every failure in `.failures`; a failure of the exchange itself throws a plain
//   Error with `.code`: before any op was sent (no addon, no such namespace) or, rarely, midway
//   (a send or receive error), when only a read of the kernel tells what was applied.
import { endianness } from 'node:os';
import { getSystemErrorMap, getSystemErrorName } from 'node:util';
import { loadAddon } from './addons.js';
import { parseIp } from './ipv4.js';
import { NETNS_DIR } from './kernel.js';

/** One rtnetlink request, without its nlmsghdr (encodeRequests adds it). */
export interface NetlinkOp {
  /** What it does, for errors: "fdb replace 02:42:0a:00:01:03 dst 192.168.1.12 vni 4097 dev#7". */
  readonly label: string;
  /** nlmsg_type (RTM_NEWNEIGH…). */
  readonly type: number;
  /** nlmsg_flags besides NLM_F_REQUEST | NLM_F_ACK, which every op carries. */
  readonly flags: number;
  /** The family header (ndmsg, rtmsg) and attributes; its length is a multiple of 4. */
  readonly body: Buffer;
  /** A delete: "already gone" is reported as `missing` (see ignoreMissing). */
  readonly deletes: boolean;
}

// From <linux/netlink.h>, <linux/rtnetlink.h>, <linux/neighbour.h>, <linux/socket.h>.
const NLMSG_HDRLEN = 16;
const NLM_F_REQUEST = 0x1;
const NLM_F_ACK = 0x4;
const NLM_F_REPLACE = 0x100;
const NLM_F_CREATE = 0x400;
const RTM_NEWROUTE = 24;
const RTM_DELROUTE = 25;
const RTM_NEWNEIGH = 28;
const RTM_DELNEIGH = 29;
const AF_INET = 2;
const AF_BRIDGE = 7;
const NUD_NOARP = 0x40;
const NUD_PERMANENT = 0x80;
const NTF_SELF = 0x02;
const NDA_DST = 1;
const NDA_LLADDR = 2;
const NDA_VNI = 7;
const RTA_DST = 1;
const RTA_OIF = 4;
const RTA_PREFSRC = 7;
const RTA_TABLE = 15;
const RT_TABLE_MAIN = 254;
const RTPROT_UNSPEC = 0;
/** What `ip route add/replace` sets when no `proto` is given. */
const RTPROT_BOOT = 3;
const RT_SCOPE_LINK = 253;
/** What `ip route del` sends: "any scope". */
const RT_SCOPE_NOWHERE = 255;
const RTN_UNSPEC = 0;
const RTN_UNICAST = 1;
/** The largest VXLAN network identifier: 24 bits (RFC 7348 §5). */
const VNI_MAX = 0xffffff;
/** Errnos of a delete whose entry is absent: neighbours and FDB entries say ENOENT, routes ESRCH. */
const MISSING_ERRNOS: ReadonlySet<string> = new Set(['ENOENT', 'ESRCH']);

/** `bridge fdb replace MAC dev DEV dst DST vni VNI self permanent` (NUD_NOARP is bridge's default state, kept). */
export function fdbReplace(ifindex: number, mac: string, dst: string, vni: number): NetlinkOp {
  if (!Number.isInteger(vni) || vni < 0 || vni > VNI_MAX) throw new Error(`fdb replace ${mac}: VNI ${vni} is not a 24-bit number`);
  return {
    label: `fdb replace ${mac} dst ${dst} vni ${vni} dev#${ifindex}`,
    type: RTM_NEWNEIGH,
    flags: NLM_F_CREATE | NLM_F_REPLACE,
    body: Buffer.concat([ndmsg(AF_BRIDGE, ifindex, NUD_NOARP | NUD_PERMANENT, NTF_SELF), attr(NDA_LLADDR, macBytes(mac)), attr(NDA_DST, ipBytes(dst)), attr(NDA_VNI, u32(vni))]),
    deletes: false,
  };
}

/** `bridge fdb del MAC dev DEV self`. */
export function fdbDel(ifindex: number, mac: string): NetlinkOp {
  return {
    label: `fdb del ${mac} dev#${ifindex}`,
    type: RTM_DELNEIGH,
    flags: 0,
    body: Buffer.concat([ndmsg(AF_BRIDGE, ifindex, NUD_NOARP | NUD_PERMANENT, NTF_SELF), attr(NDA_LLADDR, macBytes(mac))]),
    deletes: true,
  };
}

/** `ip neigh replace IP lladdr MAC dev DEV nud permanent`. */
export function neighReplace(ifindex: number, ip: string, mac: string): NetlinkOp {
  return {
    label: `neigh replace ${ip} lladdr ${mac} dev#${ifindex}`,
    type: RTM_NEWNEIGH,
    flags: NLM_F_CREATE | NLM_F_REPLACE,
    body: Buffer.concat([ndmsg(AF_INET, ifindex, NUD_PERMANENT, 0), attr(NDA_DST, ipBytes(ip)), attr(NDA_LLADDR, macBytes(mac))]),
    deletes: false,
  };
}

/** `ip neigh del IP dev DEV` (ip sends NUD_PERMANENT as the state; the kernel ignores it on a delete). */
export function neighDel(ifindex: number, ip: string): NetlinkOp {
  return {
    label: `neigh del ${ip} dev#${ifindex}`,
    type: RTM_DELNEIGH,
    flags: 0,
    body: Buffer.concat([ndmsg(AF_INET, ifindex, NUD_PERMANENT, 0), attr(NDA_DST, ipBytes(ip))]),
    deletes: true,
  };
}

/**
 * `ip route replace IP/32 dev DEV src SRC` in the main table, plus RTA_TABLE (ip sends it only
 * for tables above 255; the kernel reads the same table from either).
 */
export function routeReplace(ifindex: number, ip: string, src: string): NetlinkOp {
  return {
    label: `route replace ${ip}/32 src ${src} dev#${ifindex}`,
    type: RTM_NEWROUTE,
    flags: NLM_F_CREATE | NLM_F_REPLACE,
    body: Buffer.concat([rtmsg(RT_TABLE_MAIN, RTPROT_BOOT, RT_SCOPE_LINK, RTN_UNICAST), attr(RTA_DST, ipBytes(ip)), attr(RTA_PREFSRC, ipBytes(src)), attr(RTA_OIF, u32(ifindexOf(ifindex))), attr(RTA_TABLE, u32(RT_TABLE_MAIN))]),
    deletes: false,
  };
}

/** `ip route del IP/32 dev DEV` (main table, any protocol, scope and type, as ip sends it). */
export function routeDel(ifindex: number, ip: string): NetlinkOp {
  return {
    label: `route del ${ip}/32 dev#${ifindex}`,
    type: RTM_DELROUTE,
    flags: 0,
    body: Buffer.concat([rtmsg(RT_TABLE_MAIN, RTPROT_UNSPEC, RT_SCOPE_NOWHERE, RTN_UNSPEC), attr(RTA_DST, ipBytes(ip)), attr(RTA_OIF, u32(ifindexOf(ifindex)))]),
    deletes: true,
  };
}

/** The ops as one request: each message NLM_F_REQUEST | NLM_F_ACK, nlmsg_seq 1..n in order, nlmsg_pid 0. */
export function encodeRequests(ops: readonly NetlinkOp[]): Buffer {
  const total = ops.reduce((sum, op) => sum + NLMSG_HDRLEN + align4(op.body.length), 0);
  const out = Buffer.alloc(total);
  let off = 0;
  ops.forEach((op, i) => {
    out.writeUInt32LE(NLMSG_HDRLEN + op.body.length, off); // nlmsg_len: the body is already padded
    out.writeUInt16LE(op.type, off + 4);
    out.writeUInt16LE(NLM_F_REQUEST | NLM_F_ACK | op.flags, off + 6);
    out.writeUInt32LE(i + 1, off + 8); // nlmsg_seq; nlmsg_pid (off + 12) stays 0: "the kernel routes it"
    op.body.copy(out, off + NLMSG_HDRLEN);
    off += NLMSG_HDRLEN + align4(op.body.length);
  });
  return out;
}

/** One op the kernel refused. */
export interface NetlinkFailure {
  readonly label: string;
  readonly errno: number;
  /** The errno's name ("ENODEV"). */
  readonly code: string;
  /** A delete whose entry was already gone. */
  readonly missing: boolean;
  /** The kernel's own words (extended ack), when it gave some. */
  readonly kernelText?: string;
}

/** Some ops of an exchange failed; the message is one line about the first. */
export class NetlinkError extends Error {
  /** The first failure's errno name. */
  readonly code: string;
  constructor(readonly ns: string, readonly failures: readonly NetlinkFailure[], readonly notSent: number) {
    const first = failures[0]!;
    const why = `${errnoText(first.errno)}${first.kernelText ? ` (kernel: ${first.kernelText})` : ''}`;
    const more = [failures.length > 1 ? `and ${failures.length - 1} more failed` : '', notSent > 0 ? `${notSent} not sent` : ''].filter(Boolean).join('; ');
    super(`netlink in ${ns}: ${first.label}: ${why}${more ? ` (${more})` : ''}`);
    this.name = 'NetlinkError';
    this.code = first.code;
  }
}

export interface NetlinkExchangeOptions {
  /** Send every op even after one failed (`ip -force -batch`); failures are still thrown. */
  readonly force?: boolean;
  /** A delete of an entry that is already gone counts as done. */
  readonly ignoreMissing?: boolean;
}

export interface NetlinkWriter {
  exchange(ns: string, ops: readonly NetlinkOp[], opts?: NetlinkExchangeOptions): void;
}

/**
 * The addon's contract (native/netlink.c): one answer per message, in order — 0, the positive
 * errno, or -1 when not sent (stopAtError, after the first failure); `texts` holds the kernel's
 * words by index. Throws an Error with `.code` when the exchange itself fails.
 */
export interface NetlinkAddon {
  exchange(nsPath: string, request: Buffer, stopAtError?: boolean): Int32Array & { texts?: Record<number, string> };
}

/** The addon-backed writer; throws (one line) when the addon is missing or not loadable. */
export function nativeNetlink(): NetlinkWriter {
  const addon = loadAddon<NetlinkAddon>('tswarm_netlink', 'netlink');
  if (endianness() !== 'LE') throw new Error('the netlink writer encodes little-endian messages; this host is big-endian');
  return netlinkWriter(addon);
}

/** A writer over any addon (tests pass a fake one). */
export function netlinkWriter(addon: NetlinkAddon): NetlinkWriter {
  return {
    exchange(ns, ops, opts = {}) {
      if (!/^[^/\0]+$/.test(ns) || ns === '.' || ns === '..') throw new Error(`netlink: "${ns}" is not a network namespace name`);
      const path = `${NETNS_DIR}/${ns}`;
      const answers = new Int32Array(ops.length).fill(-1);
      const texts = new Map<number, string>();
      // Without force the addon stops at the first failure; a tolerated one (a missing entry
      // under ignoreMissing) must not stop the rest, so the exchange goes on after it.
      for (let start = 0; start < ops.length; ) {
        const got = addon.exchange(path, encodeRequests(ops.slice(start)), !opts.force);
        answers.set(got, start);
        for (const [i, text] of Object.entries(got.texts ?? {})) texts.set(start + Number(i), text);
        const stop = got.indexOf(-1);
        if (stop < 0) break;
        const failed = start + stop - 1;
        if (!(opts.ignoreMissing && isMissing(ops[failed]!, answers[failed]!))) break;
        start = failed + 1;
      }
      const error = exchangeError(ns, ops, answers, texts, opts.ignoreMissing ?? false);
      if (error) throw error;
    },
  };
}

/** The error an exchange's answers amount to, or undefined when every op is done. Pure. */
export function exchangeError(ns: string, ops: readonly NetlinkOp[], answers: ArrayLike<number>, texts: ReadonlyMap<number, string>, ignoreMissing: boolean): NetlinkError | undefined {
  const failures: NetlinkFailure[] = [];
  let notSent = 0;
  ops.forEach((op, i) => {
    const errno = answers[i]!;
    if (errno === -1) notSent++;
    if (errno <= 0) return;
    const missing = isMissing(op, errno);
    if (missing && ignoreMissing) return;
    const kernelText = texts.get(i);
    failures.push({ label: op.label, errno, code: errnoName(errno), missing, ...(kernelText ? { kernelText } : {}) });
  });
  return failures.length > 0 ? new NetlinkError(ns, failures, notSent) : undefined;
}

function isMissing(op: NetlinkOp, errno: number): boolean {
  return op.deletes && MISSING_ERRNOS.has(errnoName(errno));
}

function errnoName(errno: number): string {
  try {
    return getSystemErrorName(-errno);
  } catch {
    return `E${errno}`;
  }
}

/** "No such device" (libuv's wording, capitalised like strerror's). */
function errnoText(errno: number): string {
  const text = getSystemErrorMap().get(-errno)?.[1] ?? `errno ${errno}`;
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function ndmsg(family: number, ifindex: number, state: number, flags: number): Buffer {
  const b = Buffer.alloc(12); // family, pad1, pad2(2), ifindex(4), state(2), flags, type
  b.writeUInt8(family, 0);
  b.writeInt32LE(ifindexOf(ifindex), 4);
  b.writeUInt16LE(state, 8);
  b.writeUInt8(flags, 10);
  return b;
}

function rtmsg(table: number, protocol: number, scope: number, type: number): Buffer {
  // family, dst_len, src_len, tos, table, protocol, scope, type, flags(4)
  return Buffer.from([AF_INET, 32, 0, 0, table, protocol, scope, type, 0, 0, 0, 0]);
}

/** A netlink attribute: nla_len (header + data, padding excluded), nla_type, data, zeros to 4 bytes. */
function attr(type: number, data: Buffer): Buffer {
  const b = Buffer.alloc(align4(4 + data.length));
  b.writeUInt16LE(4 + data.length, 0);
  b.writeUInt16LE(type, 2);
  data.copy(b, 4);
  return b;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n, 0);
  return b;
}

function ipBytes(text: string): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(parseIp(text), 0);
  return b;
}

function macBytes(text: string): Buffer {
  if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(text)) throw new Error(`not a MAC address: "${text}"`);
  return Buffer.from(text.split(':').map((h) => parseInt(h, 16)));
}

function ifindexOf(n: number): number {
  if (!Number.isInteger(n) || n <= 0 || n > 0x7fffffff) throw new Error(`not an interface index: ${n}`);
  return n;
}

function align4(n: number): number {
  return (n + 3) & ~3;
}
