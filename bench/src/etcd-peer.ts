import { spawn } from 'node:child_process';
import path from 'node:path';
import { Etcd3 } from 'etcd3';
import { ChildGroup, requireCommand } from './exec.js';
import type { Put } from './load.js';

/** A 3-member etcd cluster on loopback (Debian's etcd-server), fsync on as by default. */
export class EtcdCluster {
  private readonly children = new ChildGroup();
  private client: Etcd3 | undefined;

  constructor(private readonly basePort = 23790) {}

  async start(): Promise<void> {
    requireCommand('etcd', 'etcd-server');
    const dir = this.children.makeDir('bench-etcd-');
    const names = ['e1', 'e2', 'e3'];
    const peerUrl = (i: number) => `http://127.0.0.1:${this.basePort + 100 + i}`;
    const initial = names.map((n, i) => `${n}=${peerUrl(i)}`).join(',');
    names.forEach((name, i) => {
      const args = [
        '--name', name, '--data-dir', path.join(dir, name),
        '--listen-client-urls', `http://127.0.0.1:${this.basePort + i}`, '--advertise-client-urls', `http://127.0.0.1:${this.basePort + i}`,
        '--listen-peer-urls', peerUrl(i), '--initial-advertise-peer-urls', peerUrl(i),
        '--initial-cluster', initial, '--initial-cluster-state', 'new', '--initial-cluster-token', 'bench',
        '--log-level', 'error', '--logger', 'zap',
      ];
      this.children.add(spawn('etcd', args, { stdio: ['ignore', 'ignore', 'pipe'] }));
    });
    this.client = new Etcd3({ hosts: names.map((_, i) => `127.0.0.1:${this.basePort + i}`) });
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        await this.client.put('bench/ready').value('1');
        return;
      } catch (e) {
        if (Date.now() > deadline) throw new Error(`etcd did not become ready: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  put(): Put {
    const c = this.client!;
    return async (k, v) => {
      await c.put(k).value(v);
    };
  }

  pids(): number[] {
    return this.children.pids();
  }

  async stop(): Promise<void> {
    this.client?.close();
    await this.children.stop();
  }
}
