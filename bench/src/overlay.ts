// `npm run bench -- overlay`: the overlay data plane on a 3-host lab, each figure against the
// peer named in its row, measured in the same run:
//   throughput    iperf3 container on h1 → container on h2 over the tswarm overlay, against
//                 iperf3 between the same two hosts over a bare kernel VXLAN device on the same
//                 underlay (the physical limit here). The key ratio, on the last line.
//   routing mesh  iperf3 from h1's namespace to h2's address on a published port, served by a
//                 container on h3, against container h1 → the same container directly.
//   DNS           dnsperf inside a container on h1 against the node's resolver (goal 20,000 q/s).
//   programming   scale events → the VIP's rules updated in a container on every host
//                 (goal p99 ≤ 1 s); the clock starts when `service scale -d` returns, i.e.
//                 once the change is committed.
// iperf3 and dnsperf are the host's binaries run inside a container's network namespace with
// `nsenter -t PID -n`: the packets take exactly the container's path.
import { writeFileSync } from 'node:fs';
import { containersOn, formSwarm, Lab, nodeIds, runningTasks, tswarmOk, WHOAMI_ARGS, type RunResult } from '@tswarm/e2e';
import { run, runOk, sleep, until } from './exec.js';

const LAB = { prefix: 'tswv', subnet: '192.168.235.0/24' };
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const IPERF_SECONDS = 3;
const SCALE_EVENTS = 10;
const DNS_GOAL_QPS = 20_000;
const PROGRAMMING_GOAL_MS = 1000;
/** The bare VXLAN device: its own VNI and port, so it never meets tswarm's. */
const RAW = { dev: 'tswraw', vni: 999, port: 4790, net: '10.250.0' };

const HOSTS = ['h1', 'h2', 'h3'];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.floor((s.length - 1) / 2)]!;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!;
}

async function containerPid(id: string): Promise<number> {
  return Number((await runOk(['docker', 'inspect', '-f', '{{.State.Pid}}', id])).trim());
}

/** Runs an iperf3 server (one test) with `server` argv prefix, the client with `client`; Gbit/s received. */
/** iperf3's port for the direct paths; 5201 is published through the mesh on every node address. */
const DIRECT_PORT = 5301;

async function iperf(server: string[], client: string[], target: string, port = DIRECT_PORT): Promise<number> {
  const srv = run([...server, 'iperf3', '-s', '-1', '-p', String(port)], { timeoutMs: (IPERF_SECONDS + 20) * 1000 });
  let out: RunResult | undefined;
  for (let attempt = 0; attempt < 20; attempt++) {
    await sleep(150);
    out = await run([...client, 'iperf3', '-c', target, '-p', String(port), '-t', String(IPERF_SECONDS), '-J'], { timeoutMs: (IPERF_SECONDS + 15) * 1000 });
    // iperf3 -J exits 0 even when it could not connect; the server may not listen yet.
    if (out.code === 0 && !out.stdout.includes('unable to connect')) break;
  }
  await srv;
  if (!out || out.code !== 0) throw new Error(`iperf3 to ${target}:${port} failed: ${(out?.stdout.match(/"error":\s*"([^"]*)"/)?.[1] ?? out?.stderr ?? '').trim()}`);
  const result = JSON.parse(out.stdout);
  const bps = result.end?.sum_received?.bits_per_second;
  if (typeof bps !== 'number') throw new Error(`iperf3 to ${target}:${port} reported no throughput: ${result.error ?? JSON.stringify(result.end).slice(0, 200)}`);
  return bps / 1e9;
}

const inHost = (lab: Lab, h: string) => ['ip', 'netns', 'exec', lab.host(h).netns];
const inPid = (pid: number) => ['nsenter', '-t', String(pid), '-n'];

/** A bare kernel VXLAN link between h1 and h2 over the lab's underlay (eth0), MTU like ours. */
async function rawVxlan(lab: Lab): Promise<void> {
  const [a, b] = [lab.host('h1').address, lab.host('h2').address];
  for (const [h, local, remote, n] of [['h1', a, b, 1], ['h2', b, a, 2]] as const) {
    const mtu = Number((await runOk([...inHost(lab, h), 'cat', '/sys/class/net/eth0/mtu'])).trim()) - 50;
    await runOk([...inHost(lab, h), 'ip', 'link', 'add', RAW.dev, 'type', 'vxlan', 'id', String(RAW.vni), 'dstport', String(RAW.port), 'local', local, 'remote', remote, 'dev', 'eth0']);
    await runOk([...inHost(lab, h), 'ip', 'link', 'set', RAW.dev, 'mtu', String(mtu), 'up']);
    await runOk([...inHost(lab, h), 'ip', 'addr', 'add', `${RAW.net}.${n}/24`, 'dev', RAW.dev]);
  }
}

/** Backends of the VIP in a container's `tswarm_lb` chain for the service: 0 when dead or absent. */
async function lbBackends(pid: number, chain: string): Promise<number> {
  const r = await run([...inPid(pid), 'nft', 'list', 'chain', 'ip', 'tswarm_lb', chain], { timeoutMs: 5000 });
  const rule = r.stdout.split('\n').find((l) => l.includes('dnat to'));
  if (!rule) return 0;
  const m = /mod (\d+)/.exec(rule);
  return m ? Number(m[1]) : 1;
}

/** Milliseconds from now until every host's client shows `n` backends for the chain. */
async function untilProgrammed(pids: number[], chain: string, n: number, t0: number): Promise<number> {
  const done = await Promise.all(pids.map(async (pid) => {
    await until(`${n} backends in ${chain} (pid ${pid})`, async () => ((await lbBackends(pid, chain)) === n ? true : `${await lbBackends(pid, chain)}`), 20_000, 10);
    return performance.now() - t0;
  }));
  return Math.max(...done);
}

export async function overlayBench(): Promise<void> {
  console.log(`overlay benchmark: 3 lab hosts (network namespaces on one bridge), ${ROUNDS} round(s), medians.`);
  const lab = await Lab.up(3, LAB);
  try {
    await formSwarm(lab, 'h1', { h2: 'worker', h3: 'worker' });
    const ids = await nodeIds(lab);
    await tswarmOk(lab, 'h1', 'network', 'create', '-d', 'overlay', 'app');
    await tswarmOk(lab, 'h1', 'service', 'create', '-d', '--name', 'client', '--mode', 'global', '--network', 'app', '--stop-signal', 'KILL', 'tswarm/busybox', 'sleep', '100000');
    await tswarmOk(lab, 'h1', 'service', 'create', '-d', '--name', 'web', '--network', 'app', '--replicas', '3', '--stop-grace-period', '1s', 'tswarm/busybox', ...WHOAMI_ARGS);
    await tswarmOk(lab, 'h1', 'service', 'create', '-d', '--name', 'perf', '--network', 'app', '--publish', '5201:5201', '--constraint', 'node.hostname==h3',
      '--stop-signal', 'KILL', 'tswarm/busybox', 'sleep', '100000');
    for (const s of ['client', 'web', 'perf']) {
      const want = s === 'perf' ? 1 : 3;
      await until(`${s} running`, async () => (await runningTasks(lab, 'h1', s)).length === want || 'not yet', 60_000, 200);
    }
    const clientPid = new Map<string, number>();
    for (const h of HOSTS) clientPid.set(h, await containerPid((await containersOn(lab, 'client', ids.get(h)!))[0]!));
    const perfPid = await containerPid((await containersOn(lab, 'perf', ids.get('h3')!))[0]!);
    const [net] = JSON.parse(await tswarmOk(lab, 'h1', 'network', 'inspect', 'app'));
    const addrOf = (prefix: string, node: string) =>
      String((Object.values(net.Containers) as Array<{ Name: string; Node: string; IPv4Address: string }>)
        .find((c) => c.Name.startsWith(prefix) && c.Node === node)!.IPv4Address).split('/')[0]!;
    const client2 = addrOf('client.', ids.get('h2')!);
    const perfAddr = addrOf('perf.', ids.get('h3')!);
    await rawVxlan(lab);

    // Throughput, alternating the sides so drift on the shared machine hits both alike.
    const raw: number[] = [];
    const overlay: number[] = [];
    const mesh: number[] = [];
    const direct: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      raw.push(await iperf(inHost(lab, 'h2'), inHost(lab, 'h1'), `${RAW.net}.2`));
      overlay.push(await iperf(inPid(clientPid.get('h2')!), inPid(clientPid.get('h1')!), client2));
      direct.push(await iperf(inPid(perfPid), inPid(clientPid.get('h1')!), perfAddr, 5201));
      mesh.push(await iperf(inPid(perfPid), inHost(lab, 'h1'), lab.host('h2').address, 5201));
    }

    // DNS queries/s against the node's resolver, from inside a container on h1.
    const queries = '/tmp/tswarm-bench-dns.txt';
    writeFileSync(queries, ['web A', 'tasks.web A', 'client A', 'tasks.client A', 'perf A', 'web AAAA'].join('\n') + '\n');
    const dnsRuns: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const out = await runOk([...inPid(clientPid.get('h1')!), 'dnsperf', '-s', '172.20.0.1', '-d', queries, '-l', '5', '-Q', '200000'], { timeoutMs: 30_000 });
      dnsRuns.push(Number(/Queries per second:\s+([\d.]+)/.exec(out)?.[1] ?? NaN));
    }

    // Programming latency: scale web 3→2→3…; each event timed until every host's rules agree.
    const [svc] = JSON.parse(await tswarmOk(lab, 'h1', 'service', 'inspect', 'web'));
    const chain = `svc_${String(svc.id).replace(/[^A-Za-z0-9_]/g, '_')}`;
    const pids = HOSTS.map((h) => clientPid.get(h)!);
    const down: number[] = [];
    const up: number[] = [];
    for (let i = 0; i < SCALE_EVENTS; i++) {
      for (const [n, out] of [[2, down], [3, up]] as const) {
        await tswarmOk(lab, 'h1', 'service', 'scale', '-d', `web=${n}`);
        const t0 = performance.now();
        out.push(await untilProgrammed(pids, chain, n, t0));
        await sleep(300);
      }
    }

    const g = (x: number) => x.toFixed(2);
    console.log('');
    console.log('| measure | tswarm | peer | ratio |');
    console.log('|---|---|---|---|');
    console.log(`| iperf3 container h1 → container h2, Gbit/s (peer: bare kernel VXLAN h1 → h2) | ${g(median(overlay))} | ${g(median(raw))} | ${g(median(overlay) / median(raw))} |`);
    console.log(`| routing mesh h1 → h2:5201 → container on h3, Gbit/s (peer: container h1 → that container directly) | ${g(median(mesh))} | ${g(median(direct))} | ${g(median(mesh) / median(direct))} |`);
    console.log(`| DNS queries/s in a container on h1 (peer: the goal) | ${median(dnsRuns).toFixed(0)} | ${DNS_GOAL_QPS} | ${g(median(dnsRuns) / DNS_GOAL_QPS)} |`);
    console.log(`| programming, scale down → rules on every host, p50 / p99 ms (goal p99 ≤ ${PROGRAMMING_GOAL_MS}) | ${median(down).toFixed(0)} / ${quantile(down, 0.99).toFixed(0)} | ${PROGRAMMING_GOAL_MS} | ${g(quantile(down, 0.99) / PROGRAMMING_GOAL_MS)} |`);
    console.log(`| programming, scale up (container start included) → rules on every host, p50 / p99 ms | ${median(up).toFixed(0)} / ${quantile(up, 0.99).toFixed(0)} | ${PROGRAMMING_GOAL_MS} | ${g(quantile(up, 0.99) / PROGRAMMING_GOAL_MS)} |`);
    console.log('');
    console.log(`samples Gbit/s: overlay ${overlay.map(g).join(' ')}; raw ${raw.map(g).join(' ')}; mesh ${mesh.map(g).join(' ')}; direct ${direct.map(g).join(' ')}`);
    console.log(`overlay throughput ratio tswarm/raw VXLAN: ${g(median(overlay) / median(raw))}`);
  } finally {
    await Lab.destroy(LAB.prefix);
  }
}
