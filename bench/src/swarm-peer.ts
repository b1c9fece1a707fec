// Docker Swarm as a benchmark peer: N lab hosts (network namespaces from the e2e lab, no tswarmd),
// one dockerd per host started inside its namespace (engines.ts, which also says why each step
// of starting them is needed), the image loaded into each engine, a swarm of one manager (h1)
// and N-1 workers. Services are created with `--no-resolve-image` (no registry here).
import { Lab } from '@tswarm/e2e';
import { destroyEngines, dockerOn, Engine, containerdPid, dockerdPid, removeEngineContainers, startEngines } from './engines.js';
import { RunResult, runOk, until } from './exec.js';

export { Engine } from './engines.js';

const SWARM_READY_MS = 60_000;
const SWARM_PORT = 2377;

export interface SwarmLabOptions {
  prefix: string;
  subnet: string;
  hosts: number;
  /** An image in the machine's own Docker Engine, loaded into every host's engine. */
  image: string;
}

export class SwarmLab {
  private constructor(readonly lab: Lab, readonly engines: Engine[]) {}

  get manager(): Engine {
    return this.engines[0]!;
  }

  /**
   * Brings the hosts, engines and swarm up. On failure removes everything it made and throws
   * one line with the failing engine's log tail.
   */
  static async up(opts: SwarmLabOptions): Promise<SwarmLab> {
    await SwarmLab.destroy(opts.prefix); // whatever a killed run left, dockerds first
    const lab = await Lab.up(opts.hosts, { prefix: opts.prefix, subnet: opts.subnet, startDaemons: false });
    let swarm: SwarmLab | undefined;
    try {
      const engines = await startEngines(lab.hosts, opts.prefix, opts.image);
      swarm = new SwarmLab(lab, engines);
      const m = swarm.manager;
      await runOk(['docker', '-H', `unix://${m.socket}`, 'swarm', 'init', '--advertise-addr', m.host.address]);
      const token = (await runOk(['docker', '-H', `unix://${m.socket}`, 'swarm', 'join-token', '-q', 'worker'])).trim();
      for (const w of engines.slice(1)) {
        await runOk(['docker', '-H', `unix://${w.socket}`, 'swarm', 'join', '--token', token, '--advertise-addr', w.host.address, `${m.host.address}:${SWARM_PORT}`]);
      }
      await until(`${opts.hosts} Swarm nodes to be Ready`, async () => {
        const nodes = await m.api.get<Array<{ Status: { State: string } }>>('/nodes');
        const ready = nodes.filter((n) => n.Status.State === 'ready').length;
        return ready === opts.hosts || `${ready} ready`;
      }, SWARM_READY_MS, 200);
    } catch (e) {
      await (swarm ? swarm.down() : SwarmLab.destroy(opts.prefix)).catch(() => undefined);
      throw new Error(`Docker Swarm peer did not come up: ${(e as Error).message}`);
    }
    return swarm;
  }

  /** `docker -H <engine> ARGS`, from the root namespace (the socket is a file). */
  docker(e: Engine, args: string[], timeoutMs = 60_000): Promise<RunResult> {
    return dockerOn(e, args, timeoutMs);
  }

  dockerdPid(e: Engine): number | undefined {
    return dockerdPid(e);
  }

  /** The containerd that dockerd started for itself (its child). */
  containerdPid(e: Engine): number | undefined {
    return containerdPid(e);
  }

  /**
   * Removes everything: services and containers through each engine's API while it answers,
   * then the rest as `destroy` does.
   */
  async down(): Promise<void> {
    const m = this.manager;
    const services = await m.api.get<Array<{ ID: string }>>('/services').catch(() => []);
    await Promise.all(services.map((s) => m.api.delete(`/services/${s.ID}`).catch(() => undefined)));
    await removeEngineContainers(this.engines);
    await SwarmLab.destroy(this.lab.prefix);
  }

  /**
   * Removes Swarm lab `prefix` in whatever state it is (also one a killed run left), from names
   * and pid files alone: the engines (destroyEngines: dockerds, then container processes left in
   * their cgroups), then namespaces and state directory (Lab.destroy). Both steps run; the
   * errors are reported together.
   */
  static async destroy(prefix: string): Promise<void> {
    const errors: string[] = [];
    await destroyEngines(prefix).catch((err: Error) => errors.push(err.message));
    await Lab.destroy(prefix).catch((err: Error) => errors.push(err.message));
    if (errors.length) throw new Error(`Docker Swarm peer clean-up: ${errors.join('; ')}`);
  }
}
