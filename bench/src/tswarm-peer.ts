import { spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { DebugClient } from '@tswarm/api';
import { ChildGroup } from './exec.js';
import type { Put } from './load.js';

const REPO = path.resolve(__dirname, '../../..');

/**
 * Extra Node flags for the members, e.g. BENCH_MEMBER_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof'
 * to profile them (NODE_OPTIONS refuses --cpu-prof).
 */
const MEMBER_NODE_ARGS = (process.env['BENCH_MEMBER_NODE_ARGS'] ?? '').split(' ').filter(Boolean);

/**
 * Three tswarmd managers on loopback forming a static Raft group (test-only flags),
 * each serving the Debug KV API on TCP so the load reaches them like etcd's clients do.
 * The WAL fsyncs as in production.
 */
export class TswarmCluster {
  private readonly children = new ChildGroup();
  private clients: DebugClient[] = [];

  /**
   * `nodeArgs`: Node flags for this cluster's members; `repo`: the checkout whose tswarmd they run.
   * An A/B of two builds or two sets of flags runs two clusters.
   */
  constructor(private readonly basePort = 24790, private readonly nodeArgs: readonly string[] = MEMBER_NODE_ARGS, private readonly repo = REPO) {}

  async start(): Promise<void> {
    const dir = this.children.makeDir('bench-tswarm-');
    const ids = ['m1', 'm2', 'm3'];
    const raftAddr = (i: number) => `127.0.0.1:${this.basePort + 100 + i}`;
    const bootstrap = ids.map((id, i) => `${id}=${raftAddr(i)}`).join(',');
    ids.forEach((id, i) => {
      const log = openSync(path.join(dir, `${id}.log`), 'a');
      this.children.add(spawn(process.execPath, [
        ...this.nodeArgs,
        path.join(this.repo, 'cmd/tswarmd/tswarmd.js'),
        '--data-dir', path.join(dir, id), '--host', `tcp://127.0.0.1:${this.basePort + i}`, '--node-name', id,
        '--raft-id', id, '--listen-addr', raftAddr(i), '--advertise-addr', raftAddr(i), '--raft-bootstrap', bootstrap,
        '--debug-api', '--log-level', 'warn',
      ], { stdio: ['ignore', log, log] }));
      closeSync(log);
      this.clients.push(new DebugClient(`127.0.0.1:${this.basePort + i}`, grpc.credentials.createInsecure()));
    });
    // Every member must answer (the load round-robins over all three), not just the first.
    const deadline = Date.now() + 30_000;
    for (const [i, c] of this.clients.entries()) {
      for (;;) {
        try {
          await new Promise<void>((resolve, reject) =>
            c.put({ key: `bench/ready/${i}`, value: Buffer.from('1') }, new grpc.Metadata(), { deadline: Date.now() + 5_000 }, (err) => (err ? reject(err) : resolve())));
          break;
        } catch (e) {
          if (Date.now() > deadline) throw new Error(`tswarm manager ${ids[i]} did not become ready: ${(e as Error).message} (logs in ${dir})`);
          await new Promise((r) => setTimeout(r, 200));
        }
      }
    }
  }

  /**
   * Round-robin over the three members, as the etcd client spreads over its endpoints.
   * No per-call deadline, like the etcd3 client's puts: a deadline costs a timer on both ends
   * of every call (measured: member CPU per write at 1 client 2.53 -> 2.27 ms without it).
   * A write cannot hang the run: a member fails a proposal not applied within 10 s.
   */
  put(): Put {
    let next = 0;
    return (key, value) => new Promise<void>((resolve, reject) => {
      const c = this.clients[next++ % this.clients.length]!;
      c.put({ key, value }, (err) => (err ? reject(err) : resolve()));
    });
  }

  pids(): number[] {
    return this.children.pids();
  }

  async stop(): Promise<void> {
    for (const c of this.clients) c.close();
    this.clients = [];
    await this.children.stop();
  }
}
