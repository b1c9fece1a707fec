// `npm run bench -- raft-floor`: what one replicated write costs on this machine with the
// libraries tswarm's managers use, and nothing of tswarm's own — the floor under the raft
// benchmark's single-client row. Three processes on loopback:
//
//   driver --unary Put (grpc-js)--> A   A: O_DSYNC write of the entry, and at the same time
//                                       the entry on a bidirectional stream to B and C
//   B, C: O_DSYNC write, then an answer on the stream
//   A: answers the driver once its own write and one answer are in, then sends B and C a
//      commit notice (as a Raft leader does; unanswered)
//
// No Raft core, no store, no protobuf: raw bytes through grpc-js. The driver always calls A
// (the leader), the cheapest path. Measured in the same run against etcd and tswarm at one
// client, after the raft benchmark's warm-up, so the lines compare.
import { fork } from 'node:child_process';
import { constants, openSync, write } from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ChildGroup } from './exec.js';
import type { Put } from './load.js';
import { measure, TswarmSide, EtcdClusterSide, type Side } from './raft.js';

const identity = (b: Buffer): Buffer => b;
const PUT = '/floor.Floor/Put';
const PIPE = '/floor.Floor/Pipe';
const service: grpc.ServiceDefinition = {
  Put: { path: PUT, requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
  Pipe: { path: PIPE, requestStream: true, responseStream: true, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
};
/** Frame on the stream: u32 sequence, u8 kind, then the value for an entry. */
const ENTRY = 1;
const NOTICE = 2;

/** An append-only file written with O_DSYNC, one thread-pool round trip per write, as the WAL. */
function dsyncLog(file: string): (buf: Buffer, done: () => void) => void {
  const fd = openSync(file, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_DSYNC);
  let offset = 0;
  return (buf, done) => {
    const at = offset;
    offset += buf.length;
    write(fd, buf, 0, buf.length, at, (err) => {
      if (err) throw err;
      done();
    });
  };
}

function frame(seq: number, kind: number, value?: Buffer): Buffer {
  const b = Buffer.alloc(5 + (value?.length ?? 0));
  b.writeUInt32LE(seq, 0);
  b.writeUInt8(kind, 4);
  value?.copy(b, 5);
  return b;
}

/** Member A: the leader of the floor. Writes may overlap (the warm-up runs 256 writers). */
function leader(dir: string, port: number): void {
  const log = dsyncLog(path.join(dir, 'a.log'));
  const followers: grpc.ServerDuplexStream<Buffer, Buffer>[] = [];
  let seq = 0;
  const pending = new Map<number, { answered: boolean; written: boolean; reply: () => void }>();
  const maybeReply = (s: number) => {
    const p = pending.get(s);
    if (!p || !p.written || !p.answered) return;
    pending.delete(s);
    p.reply();
    setImmediate(() => {
      for (const f of followers) f.write(frame(s, NOTICE));
    });
  };
  const server = new grpc.Server();
  server.addService(service, {
    Pipe: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
      followers.push(call);
      call.on('data', (b: Buffer) => {
        const s = b.readUInt32LE(0);
        const p = pending.get(s);
        if (!p) return;
        p.answered = true;
        maybeReply(s);
      });
      call.on('error', () => undefined);
    },
    Put: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      const s = ++seq;
      const entry = frame(s, ENTRY, call.request);
      pending.set(s, { answered: false, written: false, reply: () => cb(null, Buffer.alloc(0)) });
      for (const f of followers) f.write(entry);
      log(entry, () => {
        pending.get(s)!.written = true;
        maybeReply(s);
      });
    },
  });
  server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (err) => {
    if (err) throw err;
    process.send?.('up');
  });
}

/** Members B and C: persist, then answer. */
function follower(dir: string, port: number, name: string): void {
  const log = dsyncLog(path.join(dir, `${name}.log`));
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.enable_retries': 0 });
  const call = client.makeBidiStreamRequest(PIPE, identity, identity);
  call.on('data', (b: Buffer) => {
    if (b.readUInt8(4) === ENTRY) log(b, () => call.write(frame(b.readUInt32LE(0), ENTRY)));
  });
  call.on('error', () => undefined);
  // The leader learns of this member from its first write on the stream.
  call.write(frame(0, NOTICE));
  process.send?.('up');
}

export class FloorSide implements Side {
  name = 'floor';
  private readonly children = new ChildGroup();
  private client: grpc.Client | undefined;

  constructor(private readonly port = 24990) {}

  async start(): Promise<void> {
    const dir = this.children.makeDir('bench-floor-');
    const spawnRole = async (...args: string[]) => {
      const p = this.children.add(fork(__filename, ['--floor-member', ...args], { stdio: 'inherit' }));
      await new Promise<void>((resolve, reject) => {
        p.once('message', () => resolve());
        p.once('exit', (code) => reject(new Error(`floor member ${args.join(' ')} exited with ${code}`)));
      });
    };
    await spawnRole('leader', dir, String(this.port));
    await spawnRole('follower', dir, String(this.port), 'b');
    await spawnRole('follower', dir, String(this.port), 'c');
    this.client = new grpc.Client(`127.0.0.1:${this.port}`, grpc.credentials.createInsecure());
  }

  put(): Put {
    const client = this.client!;
    return (_key, value) => new Promise<void>((resolve, reject) => {
      client.makeUnaryRequest(PUT, identity, identity, value, (err) => (err ? reject(err) : resolve()));
    });
  }

  pids(): number[] {
    return this.children.pids();
  }

  async stop(): Promise<void> {
    this.client?.close();
    await this.children.stop();
  }
}

const f2 = (n: number) => n.toFixed(2);

export async function raftFloorBench(): Promise<void> {
  console.log('raft floor: one writer, 256-byte values, fsync on; etcd, the floor (grpc-js unary + a bidirectional');
  console.log('stream to 2 members, O_DSYNC writes, no Raft core or store) and tswarm, all up at once, after the raft benchmark\'s');
  console.log('warm-up, measured in alternating slices as the raft benchmark\'s rows.\n');
  const sides = [new EtcdClusterSide(), new FloorSide(), new TswarmSide()];
  const measured = await measure(sides, [1]);
  const rows = sides.map((side, i) => [side.name, measured[i]!] as const);
  console.log('side    | writes/s  p50 ms  p99 ms | member CPU ms per write (3 members)');
  for (const [name, r] of rows) {
    const row = r.rows[0]!;
    console.log(`${name.padEnd(7)} | ${row.writesPerSec.toFixed(0).padStart(8)} ${f2(row.p50Ms).padStart(7)} ${f2(row.p99Ms).padStart(7)} | ${f2(r.memberCpuMsPerWrite[0]!)}`);
  }
  const p50 = (name: string) => rows.find(([n]) => n === name)![1].rows[0]!.p50Ms;
  console.log(`p50 ratios: floor/etcd ${f2(p50('floor') / p50('etcd'))}x, tswarm/floor ${f2(p50('tswarm') / p50('floor'))}x, tswarm/etcd ${f2(p50('tswarm') / p50('etcd'))}x`);
}

if (process.argv[2] === '--floor-member') {
  process.on('SIGTERM', () => process.exit(0));
  const [, , , role, dir, port, name] = process.argv;
  if (role === 'leader') leader(dir!, Number(port));
  else follower(dir!, Number(port), name!);
}
