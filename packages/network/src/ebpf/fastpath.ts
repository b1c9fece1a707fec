// The eBPF fast path's I/O: loading the programs (programs.ts) for one sandbox, handing them to
// tc through a pin, and taking them off again. Owned by SandboxSet, used from the data plane's
// queue only.
//
// Lifetime: a program lives as long as a tc filter holds it. The pin on bpffs exists only for
// the hand-off to `tc … object-pinned` and is unlinked right after, so deleting a veth, a
// sandbox or a whole network leaves nothing behind; pins a crashed process left between pin
// and unlink are removed when the next one starts (only this node's: the directory is shared
// by every tswarmd on the machine, and lab hosts are namespaces of one machine).
//
// tc runs under `nsenter --net` and not `tc -n`: `-n` remounts /sys for the namespace, which
// hides the bpffs mounted at /sys/fs/bpf.
import { existsSync, mkdirSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from '@tswarm/api';
import type { Kernel } from '../kernel.js';
import { SANDBOX_BRIDGE, nodeToken, parseSandboxName, vxlanName } from '../names.js';
import { nativeLoader, type BpfLoader } from './loader.js';
import { attachLines, detachLines, planFastPath, txReceiveLines, type SandboxEndpoint } from './plan.js';
import type { Asm } from './asm.js';
import { fromOverlayProgram, toOverlayProgram, txReceiveProgram } from './programs.js';

export const BPFFS = '/sys/fs/bpf';
export const PIN_DIR = `${BPFFS}/tswarm`;

function bpffsMounted(): boolean {
  try {
    return readFileSync('/proc/self/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === BPFFS && l.split(' ')[2] === 'bpf');
  } catch {
    return false;
  }
}

/** bpffs forbids dots in names ("reserved for future use"), hence `-`. */
function pinName(sandbox: string, kind: 'from' | 'to'): string {
  return `${sandbox}-${kind}`;
}

/**
 * Pins of a container's transmit device's program: `<prefix>-<node8>-<task12>-rx` (names.ts
 * txPinBase; `…-drop` and `…-txN`, left by a tswarmd from before 2026-11-28, are swept too).
 */
const TX_PIN = /^(.*)-[0-9a-z]+-(tx\d+|drop|rx)$/;

/**
 * The mount is machine-wide, so one check-and-mount per process, shared: data planes created
 * at once (tests run two nodes in one process) would otherwise each stack a bpffs instance.
 */
let bpffsMount: Promise<void> | undefined;
function mountBpffs(k: Kernel): Promise<void> {
  bpffsMount ??= (async () => {
    if (!bpffsMounted()) await k.run(['mount', '-t', 'bpf', 'bpf', BPFFS]);
  })().catch((e: unknown) => {
    bpffsMount = undefined;
    throw e;
  });
  return bpffsMount;
}

export interface FastPathOptions {
  readonly namePrefix: string;
  readonly nodeId: string;
  /** Default: the N-API addon. Tests pass others. */
  readonly loader?: () => BpfLoader;
  readonly pinDir?: string;
}

export class FastPath {
  private constructor(
    private readonly k: Kernel,
    private readonly loader: BpfLoader,
    private readonly pinDir: string,
  ) {}

  /**
   * The fast path, or undefined when this host cannot have it (addon not built, no bpf(2)
   * permission, bpffs not mountable, helper missing): then the reason is logged once and
   * overlay traffic keeps taking the sandbox bridge, which is in place either way.
   */
  static async create(k: Kernel, opts: FastPathOptions, log: Logger): Promise<FastPath | undefined> {
    const pinDir = opts.pinDir ?? PIN_DIR;
    try {
      const loader = (opts.loader ?? nativeLoader)();
      if (pinDir.startsWith(`${BPFFS}/`)) await mountBpffs(k);
      mkdirSync(pinDir, { recursive: true });
      for (const f of readdirSync(pinDir)) {
        const sandbox = /^(.*)-(from|to)$/.exec(f)?.[1];
        if (sandbox && parseSandboxName(opts.namePrefix, opts.nodeId, sandbox) !== undefined) unlinkSync(join(pinDir, f));
        if (TX_PIN.exec(f)?.[1] === `${opts.namePrefix}-${nodeToken(opts.nodeId)}`) unlinkSync(join(pinDir, f));
      }
      // Probe with the real programs (their helpers included) before promising anything.
      const probe = { vxlanIfindex: 1, bridgeMac: '02:00:00:00:00:01', endpoints: [{ mac: '02:00:00:00:00:02', ifindex: 1 }], localMacs: ['02:00:00:00:00:02'] };
      for (const a of [fromOverlayProgram(probe), toOverlayProgram(probe), txReceiveProgram(1)]) loader.close(loader.loadSchedCls('tsw_probe', a.assemble()));
      return new FastPath(k, loader, pinDir);
    } catch (e) {
      log.warn('eBPF fast path unavailable; overlay traffic takes the sandbox bridge', { reason: (e as Error).message });
      return undefined;
    }
  }

  /**
   * Attaches (or replaces) the sandbox's programs for these local endpoints. With no
   * endpoint, takes the VXLAN device's filter off instead. Throws on failure; the caller
   * then calls clear() so no stale program stays.
   */
  async apply(sandbox: string, vni: number, endpoints: readonly SandboxEndpoint[]): Promise<{ veths: number }> {
    const vx = vxlanName(vni);
    if (endpoints.length === 0) {
      await this.tc(sandbox, detachLines([vx]), true).catch(() => undefined);
      return { veths: 0 };
    }
    const layout = planFastPath(await this.k.links(sandbox), vx, endpoints);
    if (!layout.ok) throw new Error(layout.reason);
    const pins = { from: join(this.pinDir, pinName(sandbox, 'from')), to: join(this.pinDir, pinName(sandbox, 'to')) };
    const programs = [['tsw_from_ovl', fromOverlayProgram(layout.plan), pins.from], ['tsw_to_ovl', toOverlayProgram(layout.plan), pins.to]] as const;
    await this.handOff(sandbox, programs, attachLines(vx, layout.veths, pins));
    return { veths: layout.veths.length };
  }

  /**
   * Puts the receive program (programs.ts txReceive) on the ingress of a container's transmit
   * device `dev` (tx-plan.ts), in the container's namespace `nsName`, sending what must meet
   * the sandbox out through the interface whose ifindex is `ethIfindex`; `pinBase` names the
   * hand-off pin (names.ts txPinBase). Replaces the program in place. Throws on failure.
   */
  async receiveTx(nsName: string, pinBase: string, dev: string, ethIfindex: number): Promise<void> {
    const pin = join(this.pinDir, `${pinBase}-rx`);
    await this.handOff(nsName, [['tsw_tx_rx', txReceiveProgram(ethIfindex), pin]], txReceiveLines(dev, pin));
  }

  /** Takes the fast path's filters off the egress of a container's interfaces `eths`. Never throws. */
  async unhookEgress(nsName: string, eths: readonly string[]): Promise<void> {
    await this.tc(nsName, detachLines(eths, 'egress'), true).catch(() => undefined);
  }

  /** Takes every fast-path filter off the sandbox's VXLAN device and bridge ports (the bridge path remains). Never throws. */
  async clear(sandbox: string, vni: number): Promise<void> {
    const ports = (await this.k.links(sandbox).catch(() => [])).filter((l) => l.master === SANDBOX_BRIDGE).map((l) => l.ifname);
    await this.tc(sandbox, detachLines([...new Set([vxlanName(vni), ...ports])]), true).catch(() => undefined);
  }

  /**
   * Loads each program and pins it where tc takes it (`object-pinned`), runs `lines` in namespace
   * `ns`, then closes the descriptors and unlinks the pins: the filters hold the programs.
   */
  private async handOff(ns: string, programs: readonly (readonly [name: string, asm: Asm, pin: string])[], lines: readonly string[]): Promise<void> {
    const fds: number[] = [];
    try {
      for (const [name, asm, pin] of programs) {
        const fd = this.loader.loadSchedCls(name, asm.assemble());
        fds.push(fd);
        if (existsSync(pin)) unlinkSync(pin);
        this.loader.pin(fd, pin);
      }
      await this.tc(ns, lines, false);
    } finally {
      for (const fd of fds) this.loader.close(fd);
      for (const [, , pin] of programs) if (existsSync(pin)) unlinkSync(pin);
    }
  }

  private async tc(sandbox: string, lines: readonly string[], force: boolean): Promise<void> {
    if (lines.length === 0) return;
    await this.k.tcBatchIn(sandbox, lines, force);
  }
}
