// The resolver process: UDP and TCP sockets on the node's gateway-bridge address, port 53,
// answering swarm names from precomputed tables and forwarding everything else. A client is the
// source IP of its query; the daemon says which networks each client is on (setClients) and what
// the cluster looks like (setView). Single-threaded: all state is owned by this object and only
// replaced wholesale by setView/setClients, never mutated under a query.
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import type { Logger, NetworkView } from '@tswarm/api';
import { answerFromNames, RCODE, RECORD_TTL_S } from './answer.js';
import { Forwarder, parseUpstream, systemUpstreams, type Upstream } from './forwarder.js';
import { buildNameTable, EMPTY_TABLE, type ClientNames, type NameTable } from './name-table.js';
import { encodeResponse, parseQuery, TCP_MAX_BYTES, udpLimitBytes } from './wire.js';

export interface ResolverOptions {
  /** Address to bind, e.g. the gateway-bridge IP '172.20.0.1' (tests: '127.0.0.1'). */
  host: string;
  /** Default 53; 0 = any free port (the same one for UDP and TCP). */
  port?: number;
  /** 'ip' or 'ip:port'; default: the nameservers of /etc/resolv.conf (loopback ones too). */
  upstreams?: string[];
  logger: Logger;
  /** How long one upstream has to answer before the next is tried. Default 2000. */
  upstreamTimeoutMs?: number;
  /** Orders dnsrr answers; [0, 1). Default Math.random. */
  random?: () => number;
}

/** Counters since start. Every received datagram or TCP frame counts in `queries`. */
export interface ResolverStats {
  queries: number;
  /** Swarm names answered with records. */
  answered: number;
  /** Swarm names that exist, with no record of the asked type. */
  nodata: number;
  nxdomain: number;
  forwarded: number;
  /** Forwarded queries no upstream answered, or refused for lack of upstreams or capacity. */
  servfail: number;
  /** Undecodable input, dropped (UDP) or closing its connection (TCP). */
  malformed: number;
  /** Swarm answers sent with TC over UDP. */
  truncated: number;
}

export const DEFAULT_PORT = 53;
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 2000;
/** A TCP connection with no query for this long is closed (RFC 7766 §6.2.3: seconds, not minutes). */
export const TCP_IDLE_TIMEOUT_MS = 10_000;
/** Beyond this many TCP clients new connections are refused; containers mostly use UDP. */
export const MAX_TCP_CONNECTIONS = 512;
/**
 * Forwarded queries in flight at most (Docker's embedded resolver uses the same bound); beyond
 * it we answer SERVFAIL at once instead of opening sockets without limit for a flood.
 */
export const MAX_FORWARDS_IN_FLIGHT = 1024;
/** Room for bursts (dnsperf, a restart storm) before the kernel drops datagrams; capped by rmem_max. */
export const UDP_RECV_BUFFER_BYTES = 4 << 20;
/** Tries to find a port free for both UDP and TCP when port 0 is asked. */
const FREE_PORT_ATTEMPTS = 10;

const NO_NAMES: ClientNames = new Map();

export class ServiceResolver {
  private table: NameTable = EMPTY_TABLE;
  private clients: ReadonlyMap<string, readonly string[]> = new Map();
  /** Derived: client IP → its names under `table`. Recomputed on setView/setClients only. */
  private clientNames = new Map<string, ClientNames>();
  private readonly connections = new Set<net.Socket>();
  private readonly counters: ResolverStats = {
    queries: 0, answered: 0, nodata: 0, nxdomain: 0, forwarded: 0, servfail: 0, malformed: 0, truncated: 0,
  };
  private closed = false;

  private constructor(
    readonly address: { readonly host: string; readonly port: number },
    private readonly udp: dgram.Socket,
    private readonly tcp: net.Server,
    private readonly forwarder: Forwarder,
    private readonly logger: Logger,
    private readonly random: () => number,
  ) {
    udp.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo));
    udp.on('error', (err) => this.logger.warn('DNS UDP socket error', { error: err.message }));
    tcp.on('connection', (conn) => this.onConnection(conn));
    tcp.on('error', (err) => this.logger.warn('DNS TCP listener error', { error: err.message }));
  }

  static async start(opts: ResolverOptions): Promise<ServiceResolver> {
    const logger = opts.logger;
    const { udp, tcp, port } = await bindBoth(opts.host, opts.port ?? DEFAULT_PORT);
    try {
      udp.setRecvBufferSize(UDP_RECV_BUFFER_BYTES);
    } catch {
      // not permitted or capped: the default buffer still works
    }
    const self: Upstream = { host: opts.host, port };
    const upstreams = (opts.upstreams ? opts.upstreams.map(parseUpstream) : await systemUpstreams())
      .filter((u) => !(u.host === self.host && u.port === self.port)); // never forward to ourselves
    if (upstreams.length === 0) {
      logger.warn('no upstream DNS servers: names outside the swarm will get SERVFAIL');
    }
    logger.info('DNS resolver listening', {
      address: `${opts.host}:${port}`,
      upstreams: upstreams.map((u) => `${u.host}:${u.port}`).join(','),
    });
    const forwarder = new Forwarder(upstreams, opts.upstreamTimeoutMs ?? DEFAULT_UPSTREAM_TIMEOUT_MS, logger);
    return new ServiceResolver({ host: opts.host, port }, udp, tcp, forwarder, logger, opts.random ?? Math.random);
  }

  /** Replaces the cluster's names; the next query sees them. */
  setView(view: NetworkView): void {
    this.table = buildNameTable(view);
    this.recomputeClients();
  }

  /** Replaces the client map: client IP (its gateway-bridge address) → the networks it is on. */
  setClients(clients: ReadonlyMap<string, readonly string[]>): void {
    this.clients = new Map([...clients].map(([ip, nets]) => [ip.split('/')[0]!, [...nets]]));
    this.recomputeClients();
  }

  stats(): ResolverStats {
    return { ...this.counters };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.forwarder.close();
    for (const c of this.connections) c.destroy();
    await Promise.all([
      new Promise<void>((resolve) => this.udp.close(() => resolve())),
      new Promise<void>((resolve) => this.tcp.close(() => resolve())),
    ]);
  }

  private recomputeClients(): void {
    const next = new Map<string, ClientNames>();
    for (const [ip, nets] of this.clients) next.set(ip, this.table.namesFor(nets));
    this.clientNames = next;
  }

  private onDatagram(msg: Buffer, rinfo: dgram.RemoteInfo): void {
    this.safeHandle(msg, unmapped(rinfo.address), false, (reply) => {
      if (!this.closed) this.udp.send(reply, rinfo.port, rinfo.address);
    });
  }

  private onConnection(conn: net.Socket): void {
    if (this.closed || this.connections.size >= MAX_TCP_CONNECTIONS) {
      conn.destroy();
      return;
    }
    this.connections.add(conn);
    const client = unmapped(conn.remoteAddress ?? '');
    conn.setNoDelay(true);
    conn.setTimeout(TCP_IDLE_TIMEOUT_MS, () => conn.destroy());
    conn.on('close', () => this.connections.delete(conn));
    conn.on('error', () => conn.destroy());
    const send = (reply: Buffer): void => {
      if (conn.destroyed) return;
      const len = Buffer.allocUnsafe(2);
      len.writeUInt16BE(reply.length, 0);
      conn.cork();
      conn.write(len);
      conn.write(reply);
      conn.uncork();
    };
    let buffered: Buffer = Buffer.alloc(0);
    conn.on('data', (chunk: Buffer) => {
      buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
      // Several queries per connection, answered as each is ready (RFC 7766 §6.2.1.1).
      while (buffered.length >= 2 && !conn.destroyed) {
        const len = buffered.readUInt16BE(0);
        if (buffered.length < 2 + len) break;
        const frame = buffered.subarray(2, 2 + len);
        buffered = buffered.subarray(2 + len);
        if (!this.safeHandle(frame, client, true, send)) conn.destroy();
      }
    });
  }

  /** handle, but a bug met on some odd input costs that query, never the daemon. */
  private safeHandle(msg: Buffer, client: string, viaTcp: boolean, send: (reply: Buffer) => void): boolean {
    try {
      return this.handle(msg, client, viaTcp, send);
    } catch (err) {
      this.counters.malformed++;
      this.logger.warn('failed to answer a DNS query', { client, error: err instanceof Error ? err.message : String(err) });
      return false;
    }
  }

  /**
   * Answers one query through `send` (now, or later when forwarded). false: the input was not a
   * DNS query (counted, and a TCP caller closes the connection).
   */
  private handle(msg: Buffer, client: string, viaTcp: boolean, send: (reply: Buffer) => void): boolean {
    const c = this.counters;
    c.queries++;
    const parsed = parseQuery(msg);
    if (parsed.kind === 'malformed') {
      c.malformed++;
      this.logger.debug('dropped malformed DNS message', { client, reason: parsed.reason, tcp: viaTcp });
      return false;
    }
    if (parsed.kind === 'reject') {
      send(parsed.reply);
      return true;
    }
    const q = parsed.query;
    const limit = viaTcp ? TCP_MAX_BYTES : udpLimitBytes(q);
    const outcome = answerFromNames(q.question, this.clientNames.get(client) ?? NO_NAMES, this.random);
    if (outcome !== 'forward') {
      if (outcome.rcode === RCODE.NXDOMAIN) c.nxdomain++;
      else if (outcome.answers.length === 0) c.nodata++;
      else c.answered++;
      const enc = encodeResponse(q, outcome.rcode, outcome.answers, RECORD_TTL_S, limit, true);
      if (enc.truncated) c.truncated++;
      send(enc.bytes);
      return true;
    }
    const servfail = (): void => {
      c.servfail++;
      send(encodeResponse(q, RCODE.SERVFAIL, [], RECORD_TTL_S, limit, false).bytes);
    };
    if (this.forwarder.upstreams.length === 0 || this.forwarder.pending >= MAX_FORWARDS_IN_FLIGHT) {
      servfail();
      return true;
    }
    c.forwarded++;
    void this.forwarder.forward(msg, q.id, viaTcp).then((answer) => {
      if (this.closed) return;
      if (answer) send(answer);
      else servfail();
    });
    return true;
  }
}

/** `::ffff:10.0.0.2` → `10.0.0.2`, so a client is found whatever socket family carried it. */
function unmapped(ip: string): string {
  return ip.startsWith('::ffff:') && net.isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
}

/**
 * Binds UDP then TCP on the same port; for port 0, retries until a port is free for both
 * (the port UDP was given may be held by a TCP socket). Exported for the tests' fake upstream.
 */
export async function bindBoth(host: string, port: number): Promise<{ udp: dgram.Socket; tcp: net.Server; port: number }> {
  const family = net.isIPv6(host) ? 'udp6' : 'udp4';
  for (let attempt = 1; ; attempt++) {
    const udp = dgram.createSocket(family);
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, host, () => {
        udp.off('error', reject);
        resolve();
      });
    }).catch((err: Error) => {
      throw new Error(`cannot bind DNS resolver to udp ${host}:${port}: ${err.message}`);
    });
    const bound = udp.address().port;
    const tcp = net.createServer();
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(bound, host, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
      return { udp, tcp, port: bound };
    } catch (err) {
      udp.close();
      const code = (err as NodeJS.ErrnoException).code;
      if (port !== 0 || code !== 'EADDRINUSE' || attempt >= FREE_PORT_ATTEMPTS) {
        throw new Error(`cannot bind DNS resolver to tcp ${host}:${bound}: ${(err as Error).message}`);
      }
    }
  }
}
