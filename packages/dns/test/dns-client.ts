// Loopback-only DNS clients and a fake upstream server for the socket tests.
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import * as dnsPacket from 'dns-packet';
import { bindBoth } from '../src/server.js';

let nextId = 1;

export function query(name: string, type: dnsPacket.Question['type'] = 'A', opts: { edns?: number; id?: number } = {}): Buffer {
  return dnsPacket.encode({
    type: 'query',
    id: opts.id ?? nextId++ & 0xffff,
    flags: dnsPacket.RECURSION_DESIRED,
    questions: [{ type, name, class: 'IN' }],
    additionals: opts.edns ? [{ type: 'OPT', name: '.', udpPayloadSize: opts.edns, flags: 0 } as dnsPacket.Answer] : [],
  });
}

export interface Reply {
  raw: Buffer;
  packet: dnsPacket.DecodedPacket & { rcode?: string };
}

/** Sends one datagram from `from` (a loopback address) and waits for one reply; undefined on timeout. */
export function udpExchange(port: number, msg: Buffer, opts: { from?: string; timeoutMs?: number } = {}): Promise<Reply | undefined> {
  return new Promise((resolve, reject) => {
    const sock = dgram.createSocket('udp4');
    const timer = setTimeout(() => done(undefined), opts.timeoutMs ?? 2000);
    const done = (r: Reply | undefined): void => {
      clearTimeout(timer);
      sock.close();
      resolve(r);
    };
    sock.on('error', reject);
    sock.on('message', (raw) => done({ raw, packet: dnsPacket.decode(raw) }));
    sock.bind(0, opts.from ?? '127.0.0.1', () => sock.send(msg, port, '127.0.0.1'));
  });
}

export async function udpQuery(port: number, name: string, type: dnsPacket.Question['type'] = 'A', opts: { from?: string; edns?: number } = {}): Promise<Reply> {
  const r = await udpExchange(port, query(name, type, opts), opts);
  if (!r) throw new Error(`no UDP answer for ${name} ${type}`);
  return r;
}

/** A TCP connection collecting length-framed messages (RFC 1035 §4.2.2). */
export class TcpClient {
  private buffered: Buffer = Buffer.alloc(0);
  private readonly waiting: ((r: Reply) => void)[] = [];
  readonly replies: Reply[] = [];
  closed = false;

  private constructor(readonly sock: net.Socket) {
    sock.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      while (this.buffered.length >= 2 && this.buffered.length >= 2 + this.buffered.readUInt16BE(0)) {
        const raw = this.buffered.subarray(2, 2 + this.buffered.readUInt16BE(0));
        this.buffered = this.buffered.subarray(2 + raw.length);
        const r = { raw, packet: dnsPacket.decode(raw) };
        const w = this.waiting.shift();
        if (w) w(r);
        else this.replies.push(r);
      }
    });
    sock.on('close', () => { this.closed = true; });
    sock.on('error', () => {});
  }

  static connect(port: number): Promise<TcpClient> {
    return new Promise((resolve, reject) => {
      const sock = net.connect({ host: '127.0.0.1', port }, () => resolve(new TcpClient(sock)));
      sock.once('error', reject);
    });
  }

  send(msg: Buffer): void {
    const len = Buffer.alloc(2);
    len.writeUInt16BE(msg.length);
    this.sock.write(Buffer.concat([len, msg]));
  }

  next(timeoutMs = 2000): Promise<Reply> {
    const ready = this.replies.shift();
    if (ready) return Promise.resolve(ready);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no TCP reply')), timeoutMs);
      this.waiting.push((r) => { clearTimeout(timer); resolve(r); });
    });
  }

  waitClosed(timeoutMs = 2000): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.closed) return resolve();
      const timer = setTimeout(() => reject(new Error('connection still open')), timeoutMs);
      this.sock.once('close', () => { clearTimeout(timer); resolve(); });
    });
  }

  close(): void {
    this.sock.destroy();
  }
}

export type UpstreamBehaviour = (q: dnsPacket.Question, via: 'udp' | 'tcp') => dnsPacket.Packet | 'silent';

/** A DNS server on 127.0.0.1 (UDP and TCP, one port) answering as `behaviour` says. */
export class FakeUpstream {
  readonly asked: { name: string; type: string; via: 'udp' | 'tcp' }[] = [];

  private constructor(private readonly udp: dgram.Socket, private readonly tcp: net.Server, readonly port: number) {}

  static async start(behaviour: UpstreamBehaviour): Promise<FakeUpstream> {
    const { udp, tcp, port } = await bindBoth('127.0.0.1', 0);
    const up = new FakeUpstream(udp, tcp, port);
    const respond = (raw: Buffer, via: 'udp' | 'tcp'): Buffer | undefined => {
      const q = dnsPacket.decode(raw);
      const question = q.questions![0]!;
      up.asked.push({ name: question.name, type: question.type, via });
      const out = behaviour(question, via);
      if (out === 'silent') return undefined;
      return dnsPacket.encode({ id: q.id, type: 'response', questions: q.questions, ...out, flags: (out.flags ?? 0) | dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE });
    };
    udp.on('message', (raw, rinfo) => {
      const out = respond(raw, 'udp');
      if (out) udp.send(out, rinfo.port, rinfo.address);
    });
    tcp.on('connection', (conn) => {
      let buf: Buffer = Buffer.alloc(0);
      conn.on('error', () => {});
      conn.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const raw = buf.subarray(2, 2 + buf.readUInt16BE(0));
          buf = buf.subarray(2 + raw.length);
          const out = respond(raw, 'tcp');
          if (!out) continue;
          const len = Buffer.alloc(2);
          len.writeUInt16BE(out.length);
          conn.write(Buffer.concat([len, out]));
        }
      });
    });
    return up;
  }

  async close(): Promise<void> {
    await Promise.all([
      new Promise<void>((r) => this.udp.close(() => r())),
      new Promise<void>((r) => this.tcp.close(() => r())),
    ]);
  }
}

/** `n` A records for `name`: 10.9.x.y. */
export function manyA(name: string, n: number): dnsPacket.Answer[] {
  return Array.from({ length: n }, (_, i) => ({ type: 'A' as const, name, ttl: 60, data: `10.9.${i >> 8}.${i & 255}` }));
}
