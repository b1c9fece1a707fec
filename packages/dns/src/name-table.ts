// The swarm's names, precomputed from a NetworkView: per network, name → the records to answer.
// Pure: a view in, an immutable table out. Everything a query needs is computed here, once per
// view, so that answering is a map lookup (see answer.ts).
import { EndpointMode, type NetworkView, type ServiceEndpoint } from '@tswarm/api';

/** One resource record's data, with its wire-format RDATA ready to copy into a response. */
export interface AnswerRecord {
  readonly type: 'A' | 'PTR';
  /** Text form: dotted IPv4 for A, the target name for PTR. */
  readonly data: string;
  /** Wire-format RDATA (RFC 1035 §3.4.1 for A, §3.3.12 for PTR, names uncompressed). */
  readonly rdata: Buffer;
}

/** What a name resolves to, on one network or merged over a client's networks. */
export interface NameEntry {
  /** A records. Empty for a name that exists with no address now (NODATA, not NXDOMAIN). */
  readonly a: readonly AnswerRecord[];
  /** PTR records (reverse names of active task IPs and VIPs). */
  readonly ptr: readonly AnswerRecord[];
  /** true for DNS round-robin sets (dnsrr services, tasks.<service>): order shuffled per answer. */
  readonly shuffle: boolean;
}

/** Normalized name (lower case, no trailing dot) → entry. */
export type ClientNames = ReadonlyMap<string, NameEntry>;

const NO_NAMES: ClientNames = new Map();

/**
 * The names of a whole view, by network. Immutable once built; `namesFor` memoizes the merge
 * for each distinct set of networks, and a new view means a new table, so the memo never goes
 * stale.
 */
export class NameTable {
  private readonly merged = new Map<string, ClientNames>();

  constructor(
    /** network ID → its names. Networks without names (and ingress) are absent. */
    readonly byNetwork: ReadonlyMap<string, ClientNames>,
  ) {}

  /**
   * The names a client on these networks sees: the union over them (addresses of a name found
   * on several networks are concatenated, duplicates dropped). A name on a network the client is
   * not on does not exist for it.
   */
  namesFor(networkIds: readonly string[]): ClientNames {
    if (networkIds.length === 1) return this.byNetwork.get(networkIds[0]!) ?? NO_NAMES;
    const key = [...new Set(networkIds)].sort().join(',');
    let names = this.merged.get(key);
    if (!names) {
      names = mergeNames(key.split(',').map((id) => this.byNetwork.get(id)));
      this.merged.set(key, names);
    }
    return names;
  }
}

export const EMPTY_TABLE = new NameTable(new Map());

/** `10.0.1.5/24` → `10.0.1.5`; undefined when it is not an IPv4 address (the overlay is IPv4). */
export function ipv4Of(cidr: string): string | undefined {
  const ip = cidr.split('/')[0]!;
  const parts = ip.split('.');
  if (parts.length !== 4) return undefined;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return undefined;
  }
  return parts.map(Number).join('.');
}

/** Lower case, no trailing dot: the key every name is stored and looked up by. */
export function normalizeName(name: string): string {
  const n = name.endsWith('.') ? name.slice(0, -1) : name;
  return n.toLowerCase();
}

/** `10.0.1.5` → `5.1.0.10.in-addr.arpa` (RFC 1035 §3.5). */
export function reverseName(ip: string): string {
  return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
}

export function aRecord(ip: string): AnswerRecord {
  const rdata = Buffer.from(ip.split('.').map(Number));
  return { type: 'A', data: ip, rdata };
}

export function ptrRecord(target: string): AnswerRecord {
  const labels = normalizeName(target).split('.').filter((l) => l.length > 0);
  const parts: Buffer[] = [];
  for (const l of labels) {
    const b = Buffer.from(l, 'utf8');
    parts.push(Buffer.from([Math.min(b.length, 63)]), b.subarray(0, 63));
  }
  parts.push(Buffer.from([0]));
  return { type: 'PTR', data: normalizeName(target), rdata: Buffer.concat(parts) };
}

/** Mutable entry while one network's names are collected. */
interface Draft {
  a: Map<string, AnswerRecord>;
  ptr: Map<string, AnswerRecord>;
  shuffle: boolean;
}

class NetworkDraft {
  readonly names = new Map<string, Draft>();

  /** Declares the name (so it exists even with no address) and adds addresses to it. */
  add(name: string, ips: readonly string[], shuffle: boolean): void {
    const d = this.draft(name);
    d.shuffle ||= shuffle;
    for (const ip of ips) if (!d.a.has(ip)) d.a.set(ip, aRecord(ip));
  }

  addPtr(ip: string, target: string): void {
    const d = this.draft(reverseName(ip));
    const key = normalizeName(target);
    if (!d.ptr.has(key)) d.ptr.set(key, ptrRecord(target));
  }

  freeze(): ClientNames {
    const out = new Map<string, NameEntry>();
    for (const [name, d] of this.names) {
      out.set(name, { a: [...d.a.values()], ptr: [...d.ptr.values()], shuffle: d.shuffle });
    }
    return out;
  }

  private draft(name: string): Draft {
    const key = normalizeName(name);
    let d = this.names.get(key);
    if (!d) {
      d = { a: new Map(), ptr: new Map(), shuffle: false };
      this.names.set(key, d);
    }
    return d;
  }
}

/**
 * Builds the names of every network in the view:
 * - `<service>` and each alias of its attachment → the service's VIP on that network; in dnsrr
 *   mode, or when no VIP is allocated on that network, the IPs of its active endpoints there.
 * - `tasks.<service>` → the IPs of its active endpoints on that network.
 * - `<task name>` → that task's IP while it is active.
 * - reverse names of active task IPs → the task name; of VIPs → the service name.
 * A service name exists on a network when the service has a VIP or any endpoint (active or
 * not) there, so a service whose tasks are all starting answers NODATA rather than NXDOMAIN.
 * The ingress network carries no names: it exists for the routing mesh, not discovery (as in
 * Docker).
 */
export function buildNameTable(view: NetworkView): NameTable {
  const ingress = new Set(view.networks.filter((n) => n.spec?.ingress).map((n) => n.id));
  const services = new Map<string, ServiceEndpoint>(view.services.map((s) => [s.serviceId, s]));
  const drafts = new Map<string, NetworkDraft>();
  const draftOf = (networkId: string): NetworkDraft => {
    let d = drafts.get(networkId);
    if (!d) {
      d = new NetworkDraft();
      drafts.set(networkId, d);
    }
    return d;
  };

  // Per (network, service): active IPs and aliases, in endpoint order.
  interface Attachment { activeIps: string[]; aliases: Set<string> }
  const attachments = new Map<string, Map<string, Attachment>>(); // network → service → …
  const attachment = (networkId: string, serviceId: string): Attachment => {
    let bySvc = attachments.get(networkId);
    if (!bySvc) attachments.set(networkId, (bySvc = new Map()));
    let a = bySvc.get(serviceId);
    if (!a) bySvc.set(serviceId, (a = { activeIps: [], aliases: new Set() }));
    return a;
  };

  for (const ep of view.endpoints) {
    if (ingress.has(ep.networkId)) continue;
    const ip = ipv4Of(ep.addr);
    const att = attachment(ep.networkId, ep.serviceId);
    for (const alias of ep.aliases) if (alias) att.aliases.add(alias);
    if (!ep.active || ip === undefined) continue;
    att.activeIps.push(ip);
    if (ep.taskName) {
      const net = draftOf(ep.networkId);
      net.add(ep.taskName, [ip], false);
      net.addPtr(ip, ep.taskName);
    }
  }
  for (const svc of view.services) {
    for (const vip of svc.virtualIps) {
      if (!ingress.has(vip.networkId)) attachment(vip.networkId, svc.serviceId);
    }
  }

  for (const [networkId, bySvc] of attachments) {
    for (const [serviceId, att] of bySvc) {
      const svc = services.get(serviceId);
      if (!svc || !svc.name) continue; // tasks of a removed service: only their task names remain
      const net = draftOf(networkId);
      const vip = svc.mode === EndpointMode.ENDPOINT_MODE_DNSRR
        ? undefined
        : svc.virtualIps.map((v) => (v.networkId === networkId ? ipv4Of(v.addr) : undefined)).find((ip) => ip);
      for (const name of [svc.name, ...att.aliases]) {
        if (vip !== undefined) net.add(name, [vip], false);
        else net.add(name, att.activeIps, true);
      }
      net.add(`tasks.${svc.name}`, att.activeIps, true);
      if (vip !== undefined) net.addPtr(vip, svc.name);
    }
  }

  const byNetwork = new Map<string, ClientNames>();
  for (const [id, d] of drafts) byNetwork.set(id, d.freeze());
  return new NameTable(byNetwork);
}

function mergeNames(tables: readonly (ClientNames | undefined)[]): ClientNames {
  const present = tables.filter((t): t is ClientNames => t !== undefined && t.size > 0);
  if (present.length === 0) return NO_NAMES;
  if (present.length === 1) return present[0]!;
  const out = new Map<string, NameEntry>();
  for (const t of present) {
    for (const [name, e] of t) {
      const prev = out.get(name);
      out.set(name, prev ? {
        a: unionRecords(prev.a, e.a),
        ptr: unionRecords(prev.ptr, e.ptr),
        shuffle: prev.shuffle || e.shuffle,
      } : e);
    }
  }
  return out;
}

function unionRecords(x: readonly AnswerRecord[], y: readonly AnswerRecord[]): readonly AnswerRecord[] {
  if (y.length === 0) return x;
  const seen = new Set(x.map((r) => r.data));
  const extra = y.filter((r) => !seen.has(r.data));
  return extra.length === 0 ? x : [...x, ...extra];
}
