// Forwarding of non-swarm names to the upstream resolvers. Each forwarded query gets its own
// connected UDP socket (a fresh random source port, and the kernel drops datagrams from anyone
// but that upstream; an ICMP "port unreachable" fails the attempt at once instead of after the
// timeout). The query bytes travel unchanged, so the client's ID, EDNS and flags reach the
// upstream, and the upstream's answer comes back unchanged.
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { readFile } from 'node:fs/promises';
import type { Logger } from '@tswarm/api';
import { isResponseTo, isTruncated } from './wire.js';

export interface Upstream {
  readonly host: string;
  readonly port: number;
}

/** A failing upstream is reported at most once per this period, not once per query. */
export const UPSTREAM_WARN_INTERVAL_MS = 30_000;

/** `1.1.1.1`, `1.1.1.1:5353`, `2001:db8::1`, `[2001:db8::1]:5353`. Throws with a readable message. */
export function parseUpstream(s: string): Upstream {
  const text = s.trim();
  let host = text;
  let port = 53;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracketed) {
    host = bracketed[1]!;
    if (bracketed[2] !== undefined) port = Number(bracketed[2]);
  } else if (text.split(':').length === 2) {
    const [h, p] = text.split(':') as [string, string];
    host = h;
    port = /^\d+$/.test(p) ? Number(p) : NaN;
  }
  if (net.isIP(host) === 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`invalid upstream DNS server "${s}": expected IP or IP:PORT (e.g. 8.8.8.8 or 10.0.0.2:53)`);
  }
  return { host, port };
}

/**
 * The `nameserver` lines of a resolv.conf, in order. Loopback ones are kept: a container could
 * not reach them, but we forward from the daemon's own network namespace, where they work
 * (e.g. systemd-resolved's 127.0.0.53). IPv6 zone suffixes (`fe80::1%eth0`) are dropped.
 */
export function upstreamsFromResolvConf(text: string): Upstream[] {
  const out: Upstream[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (!m) continue;
    const host = m[1]!.split('%')[0]!;
    if (net.isIP(host) !== 0) out.push({ host, port: 53 });
  }
  return out;
}

export async function systemUpstreams(path = '/etc/resolv.conf'): Promise<Upstream[]> {
  try {
    return upstreamsFromResolvConf(await readFile(path, 'utf8'));
  } catch {
    return [];
  }
}

/**
 * Sends queries to the upstreams in order: the next one is tried when one does not answer
 * within the timeout or refuses; undefined when none answered (the caller answers SERVFAIL).
 * A truncated UDP answer to a query that came over TCP is asked again of the same upstream over
 * TCP (RFC 7766 §5); over UDP it is relayed as is, and the client retries over TCP itself.
 */
export class Forwarder {
  /** Cancels every exchange in flight; each resolves undefined. */
  private readonly inFlight = new Set<() => void>();
  private readonly lastWarnMs = new Map<string, number>();
  private closed = false;

  constructor(
    readonly upstreams: readonly Upstream[],
    private readonly timeoutMs: number,
    private readonly logger: Logger,
  ) {}

  /** Forwarded exchanges in flight now. */
  get pending(): number {
    return this.inFlight.size;
  }

  async forward(query: Buffer, id: number, viaTcp: boolean): Promise<Buffer | undefined> {
    for (const up of this.upstreams) {
      if (this.closed) return undefined;
      const answer = await this.exchange('udp', up, query, id);
      if (!answer) continue;
      if (viaTcp && isTruncated(answer)) return (await this.exchange('tcp', up, query, id)) ?? answer;
      return answer;
    }
    return undefined;
  }

  close(): void {
    this.closed = true;
    for (const cancel of [...this.inFlight]) cancel();
  }

  private exchange(proto: 'udp' | 'tcp', up: Upstream, query: Buffer, id: number): Promise<Buffer | undefined> {
    return new Promise((resolve) => {
      let cleanup = (): void => {};
      const finish = (answer: Buffer | undefined, failure?: string): void => {
        if (!this.inFlight.delete(cancel)) return;
        clearTimeout(timer);
        cleanup();
        if (failure !== undefined) this.warn(up, `${proto}: ${failure}`);
        resolve(answer);
      };
      const cancel = (): void => finish(undefined);
      this.inFlight.add(cancel);
      const timer = setTimeout(() => finish(undefined, `no answer within ${this.timeoutMs} ms`), this.timeoutMs);
      cleanup = proto === 'udp'
        ? udpExchange(up, query, id, finish)
        : tcpExchange(up, query, id, finish);
    });
  }

  private warn(up: Upstream, what: string): void {
    const key = `${up.host}:${up.port}`;
    const now = Date.now();
    if (now - (this.lastWarnMs.get(key) ?? -Infinity) < UPSTREAM_WARN_INTERVAL_MS) {
      this.logger.debug('upstream DNS server failed', { upstream: key, error: what });
      return;
    }
    this.lastWarnMs.set(key, now);
    this.logger.warn('upstream DNS server failed; trying the next one if any', { upstream: key, error: what });
  }
}

type Finish = (answer: Buffer | undefined, failure?: string) => void;

/** Starts one UDP exchange; returns its cleanup. */
function udpExchange(up: Upstream, query: Buffer, id: number, finish: Finish): () => void {
  const sock = dgram.createSocket(net.isIPv6(up.host) ? 'udp6' : 'udp4');
  sock.on('error', (err) => finish(undefined, err.message));
  sock.on('message', (msg) => {
    if (isResponseTo(msg, id)) finish(msg);
  });
  sock.connect(up.port, up.host, () => {
    sock.send(query, (err) => {
      if (err) finish(undefined, err.message);
    });
  });
  return () => {
    try {
      sock.close();
    } catch {
      // already closed
    }
  };
}

/** Starts one TCP exchange (2-byte length framing, RFC 1035 §4.2.2); returns its cleanup. */
function tcpExchange(up: Upstream, query: Buffer, id: number, finish: Finish): () => void {
  const sock = net.connect({ host: up.host, port: up.port });
  let buffered: Buffer = Buffer.alloc(0);
  sock.on('error', (err) => finish(undefined, err.message));
  sock.on('close', () => finish(undefined, 'connection closed before an answer'));
  sock.on('data', (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    while (buffered.length >= 2) {
      const len = buffered.readUInt16BE(0);
      if (buffered.length < 2 + len) return;
      const msg = buffered.subarray(2, 2 + len);
      buffered = buffered.subarray(2 + len);
      if (isResponseTo(msg, id)) return finish(msg);
    }
  });
  const frame = Buffer.allocUnsafe(2 + query.length);
  frame.writeUInt16BE(query.length, 0);
  query.copy(frame, 2);
  sock.write(frame);
  return () => sock.destroy();
}
