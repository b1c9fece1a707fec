// The clusters the converge benchmark drives (tswarm twice, on a shared engine and with one engine
// per host; Docker Swarm), behind one small interface: services are created, scaled and removed
// with each system's own CLI (what a user types), and watched through each system's API (tswarm's
// gRPC control API, Docker's Engine API), polled at the same period.
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ControlClient, grpcTarget, NodeState, parseHost, TaskState } from '@tswarm/api';
import { Lab } from '@tswarm/e2e';
import { DockerApi } from './docker-api.js';
import { containerdPid, destroyEngines, dockerdPid, Engine, engineSocketUrl, removeEngineContainers, startEngines } from './engines.js';
import { peakRssMiB, runOk, until } from './exec.js';
import { SwarmLab } from './swarm-peer.js';

export const SERVICE_NAME = 'web';
export const IMAGE = 'tswarm/busybox:latest';
/**
 * The container command and stop behaviour, identical on both sides. `sleep` as PID 1 ignores
 * SIGTERM (MACHINE-NOTES), so without KILL every stop would wait the 10 s grace period and the
 * scale-down rows would measure that timer rather than the orchestrator.
 */
export const CONTAINER_ARGS = ['--stop-signal', 'KILL', IMAGE, 'sleep', '3600'];
const HOSTS = 3;
const CLUSTER_READY_MS = 60_000;
const RPC_DEADLINE_MS = 10_000;

export interface ConvergeSide {
  readonly name: string;
  /** Lines for the header: how this side is set up. */
  readonly setup: string[];
  up(): Promise<void>;
  /** `service create -d --replicas N …` through the CLI; the new service's ID. */
  create(replicas: number): Promise<string>;
  /** Tasks of the service that are Running with desired state Running. */
  running(serviceId: string): Promise<number>;
  /** Running tasks per node, most first: shows both schedulers spread the same way. */
  placement(serviceId: string): Promise<number[]>;
  /** `service scale -d NAME=N` through the CLI. */
  scale(replicas: number): Promise<void>;
  /** Containers of the service (any state) on every engine of the cluster. */
  containers(serviceId: string): Promise<number>;
  /** `service rm NAME` through the CLI. */
  remove(): Promise<void>;
  /** The service is still listed. */
  listed(serviceId: string): Promise<boolean>;
  /** Peak RSS of the daemons, one line. */
  memory(): string;
  down(): Promise<void>;
}

/** How many of `nodeIds` name each node, most first. */
function perNode(nodeIds: string[]): number[] {
  const counts = new Map<string, number>();
  for (const id of nodeIds) counts.set(id, (counts.get(id) ?? 0) + 1);
  return [...counts.values()].sort((a, b) => b - a);
}

const mib = (n: number) => (Number.isNaN(n) ? '?' : Math.round(n).toString());

/** Where a tswarm side's containers run: the machine's one Docker Engine, or one engine per lab host. */
export type EngineLayout = 'shared' | 'per-host';

/**
 * tswarm: a 3-host e2e lab, tswarmd on h1 (manager) and h2, h3 (workers). With `shared`, all
 * three drive the machine's one Docker Engine; with `per-host`, each host gets its own dockerd
 * inside its namespace, started exactly as the Swarm peer's are (engines.ts, no swarm mode), and
 * its tswarmd is pointed at it with --docker-host, as Swarm's nodes each have their own engine.
 */
export class TswarmSide implements ConvergeSide {
  readonly name: string;
  readonly setup: string[];
  private lab: Lab | undefined;
  private control: ControlClient | undefined;
  private engines: Engine[] = [];
  private readonly sharedEngine = new DockerApi('/var/run/docker.sock');

  constructor(private readonly prefix: string, private readonly subnet: string, private readonly layout: EngineLayout) {
    this.name = layout === 'shared' ? 'tswarm shared-engine' : 'tswarm engine-per-host';
    this.setup = layout === 'shared'
      ? [
          `${this.name}: ${HOSTS} lab hosts (network namespaces), one tswarmd each: h1 manager, h2 and h3 workers;`,
          '        all three drive the machine\'s one Docker Engine (/var/run/docker.sock), containers labelled per node.',
        ]
      : [
          `${this.name}: ${HOSTS} lab hosts, one tswarmd each (h1 manager, h2 and h3 workers) AND one dockerd 20.10 each,`,
          '        started in the host\'s namespace exactly as the Swarm side\'s (no swarm mode), image loaded with docker save|load;',
          '        each tswarmd runs --docker-host unix:///run/tswarm-lab/<lab>/hN/docker/docker.sock, its own host\'s engine.',
        ];
  }

  async up(): Promise<void> {
    let lab: Lab;
    if (this.layout === 'shared') {
      lab = this.lab = await Lab.up(HOSTS, { prefix: this.prefix, subnet: this.subnet, logLevel: 'warn' });
    } else {
      await this.destroy(); // whatever a killed run left, dockerds first
      // Bare hosts first: each engine needs its namespace, and each tswarmd its engine.
      lab = this.lab = await Lab.up(HOSTS, {
        prefix: this.prefix,
        subnet: this.subnet,
        logLevel: 'warn',
        startDaemons: false,
        daemonArgs: (h) => ['--docker-host', engineSocketUrl(this.prefix, h.name)], // the last --docker-host wins
      });
      this.engines = await startEngines(lab.hosts, this.prefix, IMAGE);
      await Promise.all(lab.hosts.map((h) => lab.startDaemon(h.name)));
    }
    const m = lab.hosts[0]!;
    const ok = async (host: string, ...args: string[]) => {
      const r = await lab.tswarm(host, ...args);
      if (r.code !== 0) throw new Error(`tswarm ${args.slice(0, 2).join(' ')} on ${host}: ${r.stderr.trim().split('\n')[0]}`);
      return r.stdout.trim();
    };
    await ok(m.name, 'swarm', 'init', '--advertise-addr', m.address);
    const token = await ok(m.name, 'swarm', 'join-token', '-q', 'worker');
    for (const w of lab.hosts.slice(1)) await ok(w.name, 'swarm', 'join', '--token', token, '--advertise-addr', w.address, `${m.address}:2377`);
    this.control = new ControlClient(grpcTarget(parseHost(`unix://${m.socket}`)), grpc.credentials.createInsecure());
    await until(`${HOSTS} tswarm nodes to be Ready`, async () => {
      const { nodes } = await this.call(this.control!.listNodes, {});
      const ready = nodes.filter((n) => n.status?.state === NodeState.NODE_STATE_READY).length;
      return ready === HOSTS || `${ready} ready`;
    }, CLUSTER_READY_MS, 200);
  }

  async create(replicas: number): Promise<string> {
    return (await this.cli('service', 'create', '-d', '--replicas', String(replicas), '--name', SERVICE_NAME, ...CONTAINER_ARGS)).trim();
  }

  async running(serviceId: string): Promise<number> {
    const { tasks } = await this.call(this.control!.listTasks, { serviceId, nodeId: '', includeHistory: false });
    return tasks.filter((t) => t.desiredState === TaskState.TASK_STATE_RUNNING && t.status?.state === TaskState.TASK_STATE_RUNNING).length;
  }

  async placement(serviceId: string): Promise<number[]> {
    const { tasks } = await this.call(this.control!.listTasks, { serviceId, nodeId: '', includeHistory: false });
    return perNode(tasks.filter((t) => t.status?.state === TaskState.TASK_STATE_RUNNING).map((t) => t.nodeId));
  }

  async scale(replicas: number): Promise<void> {
    await this.cli('service', 'scale', '-d', `${SERVICE_NAME}=${replicas}`);
  }

  async containers(serviceId: string): Promise<number> {
    const label = `com.tswarm.service.id=${serviceId}`;
    const apis = this.layout === 'shared' ? [this.sharedEngine] : this.engines.map((e) => e.api);
    const counts = await Promise.all(apis.map(async (api) => (await api.containersWithLabel(label)).length));
    return counts.reduce((a, b) => a + b, 0);
  }

  async remove(): Promise<void> {
    await this.cli('service', 'rm', SERVICE_NAME);
  }

  async listed(serviceId: string): Promise<boolean> {
    const { services } = await this.call(this.control!.listServices, {});
    return services.some((s) => s.id === serviceId);
  }

  memory(): string {
    const lab = this.lab;
    if (!lab) return `${this.name}: not up`;
    const rss = (h: string) => mib(peakRssMiB(lab.daemonPid(h)));
    if (this.layout === 'shared') {
      return `${this.name} peak RSS: tswarmd manager h1 ${rss('h1')} MiB, worker h2 ${rss('h2')} MiB (plus the one shared dockerd + containerd, not counted)`;
    }
    const engine = (i: number) => {
      const e = this.engines[i];
      return e ? `dockerd ${mib(peakRssMiB(dockerdPid(e)))} + containerd ${mib(peakRssMiB(containerdPid(e)))} MiB` : 'no engine';
    };
    return `${this.name} peak RSS: manager h1 tswarmd ${rss('h1')} MiB + ${engine(0)}, worker h2 tswarmd ${rss('h2')} MiB + ${engine(1)}`;
  }

  /**
   * Removes the lab. Engine-per-host: tswarmds first (so none restarts a task), then every
   * container through its engine's API, then the engines (by pid file), their cgroups, and the
   * lab's namespaces and state directory. Each step runs even when an earlier one failed.
   */
  async down(): Promise<void> {
    this.control?.close();
    this.control = undefined;
    const lab = this.lab;
    const engines = this.engines;
    this.lab = undefined;
    this.engines = [];
    if (this.layout === 'shared') {
      await Lab.destroy(this.prefix); // also removes the lab's containers from the shared engine
      return;
    }
    if (lab) await Promise.allSettled(lab.hosts.map((h) => lab.stopDaemon(h.name, 3000)));
    await removeEngineContainers(engines);
    await this.destroy();
  }

  /** Engine-per-host: removes lab `prefix` from pid files and names alone (also a killed run's). */
  private async destroy(): Promise<void> {
    const errors: string[] = [];
    await destroyEngines(this.prefix).catch((err: Error) => errors.push(err.message));
    await Lab.destroy(this.prefix).catch((err: Error) => errors.push(err.message));
    if (errors.length) throw new Error(`${this.name} clean-up: ${errors.join('; ')}`);
  }

  /** The CLI as a user runs it, from the root namespace against h1's socket (as docker -H is). */
  private cli(...args: string[]): Promise<string> {
    const lab = this.lab!;
    return runOk([process.execPath, path.join(lab.state.repoRoot, 'cmd', 'tswarm', 'tswarm.js'), ...args], { env: lab.env('h1'), timeoutMs: 60_000 });
  }

  private call<Req, Res>(
    method: (req: Req, md: grpc.Metadata, opts: Partial<grpc.CallOptions>, cb: (err: grpc.ServiceError | null, res: Res) => void) => grpc.ClientUnaryCall,
    req: Req,
  ): Promise<Res> {
    return new Promise((resolve, reject) => {
      method.call(this.control, req, new grpc.Metadata(), { deadline: Date.now() + RPC_DEADLINE_MS }, (err, res) => (err ? reject(err) : resolve(res)));
    });
  }
}

/** Docker Swarm: 3 lab hosts, one dockerd each (h1 manager, h2 and h3 workers). */
export class SwarmSide implements ConvergeSide {
  readonly name = 'Swarm';
  readonly setup = [
    `Swarm:  ${HOSTS} lab hosts (network namespaces), one dockerd 20.10 each, because a Swarm node IS its engine:`,
    '        h1 manager, h2 and h3 workers; the image loaded into each engine; `service create --no-resolve-image`.',
  ];
  private swarm: SwarmLab | undefined;

  constructor(private readonly prefix: string, private readonly subnet: string) {}

  async up(): Promise<void> {
    this.swarm = await SwarmLab.up({ prefix: this.prefix, subnet: this.subnet, hosts: HOSTS, image: IMAGE });
  }

  async create(replicas: number): Promise<string> {
    return (await this.cli('service', 'create', '--no-resolve-image', '-d', '--replicas', String(replicas), '--name', SERVICE_NAME, ...CONTAINER_ARGS)).trim();
  }

  async running(serviceId: string): Promise<number> {
    return (await this.tasks(serviceId)).filter((t) => t.DesiredState === 'running' && t.Status.State === 'running').length;
  }

  async placement(serviceId: string): Promise<number[]> {
    return perNode((await this.tasks(serviceId)).filter((t) => t.Status.State === 'running').map((t) => t.NodeID));
  }

  private tasks(serviceId: string): Promise<Array<{ NodeID: string; DesiredState: string; Status: { State: string } }>> {
    return this.swarm!.manager.api.get('/tasks', { filters: JSON.stringify({ service: [serviceId] }) });
  }

  async scale(replicas: number): Promise<void> {
    await this.cli('service', 'scale', '-d', `${SERVICE_NAME}=${replicas}`);
  }

  async containers(serviceId: string): Promise<number> {
    const counts = await Promise.all(this.swarm!.engines.map(async (e) => (await e.api.containersWithLabel(`com.docker.swarm.service.id=${serviceId}`)).length));
    return counts.reduce((a, b) => a + b, 0);
  }

  async remove(): Promise<void> {
    await this.cli('service', 'rm', SERVICE_NAME);
  }

  async listed(serviceId: string): Promise<boolean> {
    const services = await this.swarm!.manager.api.get<Array<{ ID: string }>>('/services');
    return services.some((s) => s.ID === serviceId);
  }

  memory(): string {
    const s = this.swarm;
    if (!s) return 'Swarm: not up';
    const one = (i: number) => {
      const e = s.engines[i]!;
      return `dockerd ${mib(peakRssMiB(s.dockerdPid(e)))} + containerd ${mib(peakRssMiB(s.containerdPid(e)))} MiB`;
    };
    return `Swarm peak RSS: manager h1 ${one(0)}, worker h2 ${one(1)}`;
  }

  async down(): Promise<void> {
    const s = this.swarm;
    this.swarm = undefined;
    if (s) await s.down();
    else await SwarmLab.destroy(this.prefix);
  }

  private async cli(...args: string[]): Promise<string> {
    const r = await this.swarm!.docker(this.swarm!.manager, args);
    if (r.code !== 0) throw new Error(`docker ${args.slice(0, 2).join(' ')}: ${r.stderr.trim().split('\n')[0]}`);
    return r.stdout;
  }
}
