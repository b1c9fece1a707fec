// Managers on real processes (issue: Raft consensus): three tswarmd managers on lab hosts form a
// static Raft group (the test-only --raft-bootstrap path until init/join exist). Killing the
// leader's daemon must yield a new leader within 3 s, keep every acknowledged write, and the
// killed manager must catch up after restart — from a snapshot when the log it missed was compacted.
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { DebugClient, RaftStatusResponse } from '@tswarm/api';
import { Lab, until } from '../src/index.js';

const PREFIX = 'tswr';
const SUBNET = '192.168.215.0/24';
/** Small, so writes made while a member is down get compacted away and it needs a snapshot. */
const SNAPSHOT_INTERVAL = 100;
const NEW_LEADER_WITHIN_MS = 3000;

function unary<Req, Res>(c: DebugClient, method: string, req: Req, timeoutMs = 5000): Promise<Res> {
  return new Promise((resolve, reject) => {
    (c as unknown as Record<string, Function>)[method]!.call(c, req, { deadline: Date.now() + timeoutMs }, (e: Error | null, r: Res) => (e ? reject(e) : resolve(r)));
  });
}

describe('raft: three tswarmd managers on lab hosts', function () {
  let lab: Lab;
  const clients = new Map<string, DebugClient>();
  const acked = new Map<string, string>();

  const client = (host: string) => {
    let c = clients.get(host);
    if (!c) {
      c = new DebugClient(`unix:${lab.host(host).socket}`, grpc.credentials.createInsecure());
      clients.set(host, c);
    }
    return c;
  };
  const status = (host: string) => unary<object, RaftStatusResponse>(client(host), 'raftStatus', {}, 1000);
  const put = async (host: string, key: string, value: string) => {
    await unary(client(host), 'put', { key, value: Buffer.from(value) });
    acked.set(key, value);
  };
  /** The leader all the given hosts agree on, once they do. */
  const agreedLeader = (hosts: string[]) => until('a leader all members agree on', 10_000, async () => {
    const s = await Promise.all(hosts.map(status));
    const l = s[0]!.leader;
    return l && s.every((x) => x.leader === l && x.term === s[0]!.term) ? l : undefined;
  });

  before(async function () {
    lab = await Lab.up(3, {
      prefix: PREFIX, subnet: SUBNET,
      daemonArgs: (h, all) => [
        '--raft-id', h.name, '--listen-addr', `${h.address}:2377`, '--advertise-addr', `${h.address}:2377`,
        '--raft-bootstrap', all.map((x) => `${x.name}=${x.address}:2377`).join(','),
        '--raft-snapshot-interval', String(SNAPSHOT_INTERVAL), '--debug-api',
      ],
    });
  });

  after(async function () {
    for (const c of clients.values()) c.close();
    await Lab.destroy(PREFIX);
  });

  it('elects one leader and replicates acknowledged writes made through any member', async function () {
    await agreedLeader(['h1', 'h2', 'h3']);
    for (let i = 0; i < 60; i++) await put(`h${(i % 3) + 1}`, `k${i}`, `v${i}`);
    for (const h of ['h1', 'h2', 'h3']) {
      const r = await unary<object, { found: boolean; value: Buffer }>(client(h), 'get', { key: 'k59', linearizable: true });
      assert.equal(Buffer.from(r.value).toString(), 'v59', `linearizable read on ${h}`);
    }
  });

  it('elects a new leader within 3 s of the leader being killed, losing no acknowledged write', async function () {
    const leader = await agreedLeader(['h1', 'h2', 'h3']);
    const survivors = ['h1', 'h2', 'h3'].filter((h) => h !== leader);
    await lab.killDaemon(leader);
    const t0 = Date.now();
    const next = await until('a new leader among the survivors', 10_000, async () => {
      const s = await Promise.all(survivors.map(status));
      return s.every((x) => x.leader && x.leader !== leader && x.leader === s[0]!.leader) ? s[0]!.leader : undefined;
    });
    const electedMs = Date.now() - t0;
    console.log(`      (new leader ${next} after ${electedMs} ms)`);
    assert.ok(electedMs <= NEW_LEADER_WITHIN_MS, `new leader after ${electedMs} ms`);
    for (const h of survivors) {
      for (const [k, v] of acked) {
        const r = await unary<object, { found: boolean; value: Buffer }>(client(h), 'get', { key: k, linearizable: true });
        assert.equal(r.found && Buffer.from(r.value).toString(), v, `${k} on ${h}`);
      }
    }
    // The group keeps accepting writes with one member down; enough to compact past it.
    for (let i = 0; i < 3 * SNAPSHOT_INTERVAL; i++) await put(survivors[i % 2]!, `d${i}`, `w${i}`);
  });

  it('brings the killed manager back and it catches up from a snapshot', async function () {
    const killed = ['h1', 'h2', 'h3'].find((h) => lab.daemonPid(h) === undefined);
    assert.ok(killed, 'one daemon is down');
    await lab.startDaemon(killed);
    const target = await status(['h1', 'h2', 'h3'].find((h) => h !== killed)!);
    await until(`${killed} applies up to ${target.commit}`, 15_000, async () => ((await status(killed)).applied >= target.commit ? true : undefined));
    for (const [k, v] of acked) {
      const r: { found: boolean; value: Buffer } = await unary(client(killed!), 'get', { key: k, linearizable: false });
      assert.equal(r.found && Buffer.from(r.value).toString(), v, `${k} on restarted ${killed}`);
    }
    const log = await lab.exec(killed, ['cat', lab.host(killed).logFile]);
    assert.match(log.stdout, /snapshot/i, 'the restarted manager was sent a snapshot');
    await agreedLeader(['h1', 'h2', 'h3']);
  });
});
