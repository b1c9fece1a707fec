// Planning the fast path of one sandbox from what its namespace holds. Pure.
//
// Inputs: the sandbox's links (`ip -j addr show` in it), the VXLAN device's name and the local
// endpoints the data plane plumbed into it (sandbox-side veth name + the container end's MAC).
// Output: the programs' plan (programs.ts) and the veths to attach `toOverlay` to; an endpoint
// whose veth is not (yet) in the sandbox gets no redirect (it keeps the bridge path) but its
// MAC still counts as local, so frames to it are never sent to the VXLAN device.
import type { KernelLink } from '../kernel.js';
import { SANDBOX_BRIDGE } from '../names.js';
import type { FastPathPlan } from './programs.js';

export interface SandboxEndpoint {
  /** Sandbox-side veth name (names.ts sandboxVethName). */
  readonly veth: string;
  /** MAC of the container end. */
  readonly mac: string;
}

export type FastPathLayout =
  | { readonly ok: true; readonly plan: FastPathPlan; readonly veths: readonly string[] }
  | { readonly ok: false; readonly reason: string };

export function planFastPath(links: readonly KernelLink[], vxlan: string, endpoints: readonly SandboxEndpoint[]): FastPathLayout {
  const vx = links.find((l) => l.ifname === vxlan);
  const br = links.find((l) => l.ifname === SANDBOX_BRIDGE);
  if (!vx || !vx.ifindex) return { ok: false, reason: `the sandbox has no ${vxlan}` };
  if (!br || !br.mac) return { ok: false, reason: `the sandbox has no ${SANDBOX_BRIDGE}` };
  const byMac = new Map<string, { mac: string; ifindex: number; veth: string }>();
  const localMacs = new Set<string>();
  for (const ep of endpoints) {
    const l = links.find((x) => x.ifname === ep.veth && x.master === SANDBOX_BRIDGE);
    const mac = ep.mac.toLowerCase();
    localMacs.add(mac);
    if (l?.ifindex && !byMac.has(mac)) byMac.set(mac, { mac, ifindex: l.ifindex, veth: ep.veth });
  }
  const eps = [...byMac.values()].sort((a, b) => (a.mac < b.mac ? -1 : a.mac > b.mac ? 1 : 0));
  return {
    ok: true,
    plan: {
      vxlanIfindex: vx.ifindex, bridgeMac: br.mac.toLowerCase(),
      endpoints: eps.map(({ mac, ifindex }) => ({ mac, ifindex })), localMacs: [...localMacs].sort(),
    },
    veths: eps.map((e) => e.veth),
  };
}

/** tc filter priority of the fast path's filters (any other tool's filters can sit before or after). */
export const FASTPATH_PREF = 10;

/**
 * The tc lines that attach the pinned programs: a clsact qdisc on each device (`replace` keeps
 * an existing one and its filters) and one filter each, replaced in place — the kernel swaps
 * the program atomically, so traffic never sees a device without one.
 */
export function attachLines(vxlan: string, veths: readonly string[], pins: { readonly from: string; readonly to: string }): string[] {
  return [...filterLines(vxlan, pins.from), ...veths.flatMap((v) => filterLines(v, pins.to))];
}

/** The tc lines, run in a container's namespace, that put the receive program on its transmit device `tx` (ingress). */
export function txReceiveLines(tx: string, pin: string): string[] {
  return filterLines(tx, pin);
}

/** One device's clsact qdisc (`replace` keeps an existing one and its filters) and the fast path's ingress filter, replaced in place. */
function filterLines(dev: string, pin: string): string[] {
  return [`qdisc replace dev ${dev} clsact`, `filter replace dev ${dev} ingress pref ${FASTPATH_PREF} handle 1 bpf da object-pinned ${pin}`];
}

/** A tc hook. Every fast-path filter is on ingress; egress is where a tswarmd from before 2026-11-27 23:00 put one in containers. */
export type TcHook = 'ingress' | 'egress';

/** The tc lines that take the fast path's filters off devices (run with -force: a device may be gone). */
export function detachLines(devs: readonly string[], hook: TcHook = 'ingress'): string[] {
  return devs.map((d) => `filter del dev ${d} ${hook} pref ${FASTPATH_PREF}`);
}
