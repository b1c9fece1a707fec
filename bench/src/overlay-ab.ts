// `npm run bench -- overlay-ab`: what the overlay's eBPF fast path (packages/network/src/ebpf)
// and the containers' transmit devices (tx-plan.ts) are worth, measured inside one lab so that
// the run-to-run noise of this shared machine (±10 %) cancels: iperf3 container h1 → container
// h2 (pinned and timed as in `overlay`), in rounds that alternate "ebpf" (as deployed) and
// "bridge" — a filter in front of the fast path's (tc pref 1 < its pref 10, on the VXLAN device
// and every container veth of both sandboxes) whose program returns TC_ACT_OK, which ends
// classification, and in each container a routing rule before the main table's that sends
// the network's subnet to eth0 (past the /32 routes to the transmit device): so frames take
// the veths and the sandbox bridge exactly as without the fast path and the transmit devices
// (the data plane's own state is left as it is). Which mode goes first alternates per round. Each
// round prints both throughputs and the frames the sandbox veths carried both ways (≈ 0 when
// frames skip them: the proof the mode is what it says); the result is the median of the
// per-round ratios ebpf/bridge.
import { existsSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { containersOn, formSwarm, Lab, nodeIds, runningTasks, tswarmOk } from '@tswarm/e2e';
import { Asm, PIN_DIR, TC_ACT_OK, nativeLoader } from '@tswarm/network';
import { run, runOk, until } from './exec.js';
import { containerPid, inPid, iperf } from './overlay.js';
import { bootstrapInterval, formatInterval, median } from './stats.js';

const LAB = { prefix: 'tswab', subnet: '192.168.237.0/24' };
const ROUNDS = Number(process.env['BENCH_AB_ROUNDS'] ?? 12);
const BYPASS_PREF = 1;
const BYPASS_PIN = `${PIN_DIR}/${LAB.prefix}-bypass`;
/** The containers' bypass routing table and the priority of the rule that looks it up first. */
const BYPASS_TABLE = 200;
const BYPASS_RULE_PREF = 10;

const loadavg = (): string => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

/** The sandbox's VXLAN device and container veths (the devices the fast path filters). */
async function fastPathDevices(sandbox: string): Promise<string[]> {
  const vni = /-ov(\d+)-/.exec(sandbox)![1];
  const ports = JSON.parse(await runOk(['ip', '-n', sandbox, '-j', 'link', 'show', 'master', 'br0'])) as { ifname: string }[];
  return [`vx${vni}`, ...ports.map((p) => p.ifname).filter((n) => /^v[0-9a-z]{12}$/.test(n))];
}

async function tc(sandbox: string, lines: string[]): Promise<void> {
  // -force: deleting a bypass that is not there is fine.
  await runOk(['bash', '-c', `printf '%s\\n' "$@" | nsenter --net=/run/netns/${sandbox} tc -force -batch - || true`, 'tc', ...lines]);
}

export async function overlayAbBench(): Promise<void> {
  console.log(`overlay A/B: the eBPF fast path and transmit devices against the veths and bridge path in one lab, ${ROUNDS} rounds (load ${loadavg()}).`);
  const lab = await Lab.up(2, LAB);
  const loader = nativeLoader();
  const fd = loader.loadSchedCls('tsw_ab_bypass', new Asm().movImm(0, TC_ACT_OK).exit().assemble());
  try {
    if (existsSync(BYPASS_PIN)) unlinkSync(BYPASS_PIN);
    loader.pin(fd, BYPASS_PIN);
    await formSwarm(lab, 'h1', { h2: 'worker' });
    const ids = await nodeIds(lab);
    await tswarmOk(lab, 'h1', 'network', 'create', '-d', 'overlay', 'app');
    await tswarmOk(lab, 'h1', 'service', 'create', '-d', '--name', 'client', '--mode', 'global', '--network', 'app', '--stop-signal', 'KILL', 'tswarm/busybox', 'sleep', '100000');
    await until('client running', async () => (await runningTasks(lab, 'h1', 'client')).length === 2 || 'not yet', 60_000, 200);
    const pid1 = await containerPid((await containersOn(lab, 'client', ids.get('h1')!))[0]!);
    const pid2 = await containerPid((await containersOn(lab, 'client', ids.get('h2')!))[0]!);
    const [net] = JSON.parse(await tswarmOk(lab, 'h1', 'network', 'inspect', 'app'));
    const target = String((Object.values(net.Containers) as { Node: string; IPv4Address: string }[]).find((c) => c.Node === ids.get('h2'))!.IPv4Address).split('/')[0]!;
    const sandboxes = readdirSync('/run/netns').filter((n) => n.startsWith(`${LAB.prefix}-ov`));
    if (sandboxes.length !== 2) throw new Error(`expected the app sandbox on h1 and h2, found: ${sandboxes.join(' ') || 'none'}`);

    // The containers' handles (names.ts containerNsName): their main table routes the remote
    // endpoints to the transmit device; the bypass table sends the whole subnet to eth0.
    const containers = readdirSync('/run/netns').filter((n) => n.startsWith(`${LAB.prefix}-c`));
    for (const c of containers) {
      const [subnet] = JSON.parse(await runOk(['ip', '-n', c, '-j', '-4', 'route', 'show', 'dev', 'eth0', 'proto', 'kernel'])) as { dst: string }[];
      if (!subnet) throw new Error(`container namespace ${c} has no subnet route on eth0`);
      await runOk(['ip', '-n', c, 'route', 'replace', subnet.dst, 'dev', 'eth0', 'table', String(BYPASS_TABLE)]);
    }
    const setMode = async (mode: 'ebpf' | 'bridge'): Promise<void> => {
      const line = (dev: string): string => (mode === 'bridge'
        ? `filter replace dev ${dev} ingress pref ${BYPASS_PREF} handle 1 bpf da object-pinned ${BYPASS_PIN}`
        : `filter del dev ${dev} ingress pref ${BYPASS_PREF}`);
      for (const sb of sandboxes) await tc(sb, (await fastPathDevices(sb)).map(line));
      const rule = ['rule', mode === 'bridge' ? 'add' : 'del', 'pref', String(BYPASS_RULE_PREF), ...(mode === 'bridge' ? ['lookup', String(BYPASS_TABLE)] : [])];
      for (const c of containers) await run(['ip', '-n', c, ...rule]); // a rule already there (or not) is fine
    };
    /** Frames the sandbox-side veths carried, both ways (≈ 0 when the containers' frames skip them). */
    const vethFrames = async (): Promise<number> => {
      let sum = 0;
      for (const sb of sandboxes) {
        for (const d of (await fastPathDevices(sb)).slice(1)) {
          const [l] = JSON.parse(await runOk(['ip', '-n', sb, '-j', '-s', 'link', 'show', 'dev', d])) as { stats64: { tx: { packets: number }; rx: { packets: number } } }[];
          sum += l!.stats64.tx.packets + l!.stats64.rx.packets;
        }
      }
      return sum;
    };

    const ratios: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const gbps = { ebpf: 0, bridge: 0 };
      const tx = { ebpf: 0, bridge: 0 };
      for (const mode of r % 2 === 0 ? (['ebpf', 'bridge'] as const) : (['bridge', 'ebpf'] as const)) {
        await setMode(mode);
        const before = await vethFrames();
        gbps[mode] = await iperf(inPid(pid2), inPid(pid1), target);
        tx[mode] = (await vethFrames()) - before;
      }
      ratios.push(gbps.ebpf / gbps.bridge);
      console.log(`round ${r + 1}: ebpf ${gbps.ebpf.toFixed(2)} Gbit/s (sandbox veths carried ${tx.ebpf} frames), bridge ${gbps.bridge.toFixed(2)} (${tx.bridge}), ratio ${ratios[r]!.toFixed(3)}`);
    }
    await setMode('ebpf');
    const s = [...ratios].sort((a, b) => a - b);
    const interval = formatInterval(bootstrapInterval(ratios.length, (idx) => median(idx.map((i) => ratios[i]!))));
    console.log(`median of per-round ratios ebpf/bridge: ${median(ratios).toFixed(3)} (95 % interval over the rounds ${interval}; min ${s[0]!.toFixed(3)}, max ${s[s.length - 1]!.toFixed(3)}; load ${loadavg()})`);
  } finally {
    loader.close(fd);
    if (existsSync(BYPASS_PIN)) unlinkSync(BYPASS_PIN);
    await Lab.destroy(LAB.prefix);
  }
}
