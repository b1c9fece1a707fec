// Every name and link-layer address this node gives to kernel objects. Pure.
//
// Contract: network namespace names are global on the machine (/run/netns) even though each
// tswarmd runs in its own network namespace, so every namespace name embeds a per-node token
// (the first 8 characters of the node ID) or a task ID, which is unique cluster-wide. Link
// names (at most 15 characters, IFNAMSIZ-1) live in the node's own namespace or inside one of
// its sandboxes, so they only need to be unique there.
import { createHash } from 'node:crypto';
import { macForIPv4 } from '@tswarm/api';

/** The bridge in the node's namespace that gives every container its way out and its DNS. */
export const GATEWAY_BRIDGE = 'tsw_gwbridge';
/** The bridge inside each overlay sandbox. */
export const SANDBOX_BRIDGE = 'br0';
/** The ingress sandbox's end of its veth to the gateway bridge. */
export const INGRESS_SANDBOX_GW_LINK = 'gw0';
/** nft tables: in the node's namespace, in each overlay sandbox (`ip` and `bridge`), in the ingress sandbox. */
export const HOST_TABLE = 'tswarm';
export const LB_TABLE = 'tswarm_lb';
export const INGRESS_TABLE = 'tswarm_ingress';

export function nodeToken(nodeId: string): string {
  return nodeId.slice(0, 8);
}

export function sandboxName(prefix: string, vni: number, nodeId: string): string {
  return `${prefix}-ov${vni}-${nodeToken(nodeId)}`;
}

/** The VNI of one of this node's sandboxes, or undefined when `name` is not one. */
export function parseSandboxName(prefix: string, nodeId: string, name: string): number | undefined {
  const head = `${prefix}-ov`;
  const tail = `-${nodeToken(nodeId)}`;
  if (!name.startsWith(head) || !name.endsWith(tail)) return undefined;
  const digits = name.slice(head.length, name.length - tail.length);
  return /^\d{1,8}$/.test(digits) ? Number(digits) : undefined;
}

/** The handle (`ip netns attach`) on a container's namespace. */
export function containerNsName(prefix: string, taskId: string): string {
  return `${prefix}-c${taskId.slice(0, 12)}`;
}

/** The task-ID part of a handle name, or undefined when `name` is not a handle. */
export function parseContainerNsName(prefix: string, name: string): string | undefined {
  const head = `${prefix}-c`;
  return name.startsWith(head) && name.length > head.length ? name.slice(head.length) : undefined;
}

/** VXLAN device, created in the node's namespace then moved into the sandbox. ≤ 10 chars. */
export function vxlanName(vni: number): string {
  return `vx${vni}`;
}

/**
 * Sandbox end of a container's veth on br0. Uses 12 characters of the task ID (13 in all)
 * rather than 8: the sandbox is shared by every local task of the network, and the longer
 * token makes a prefix collision between two task IDs practically impossible.
 */
export function sandboxVethName(taskId: string): string {
  return `v${taskId.slice(0, 12)}`;
}

/** Node-namespace end of a container's veth on the gateway bridge. 12 chars. */
export function gatewayVethName(taskId: string): string {
  return `tg${taskId.slice(0, 10)}`;
}

/** Node-namespace end of the ingress sandbox's veth on the gateway bridge. 10 chars. */
export function ingressVethName(nodeId: string): string {
  return `ig${nodeToken(nodeId)}`;
}

/** Container interface names in attachment order: eth0, eth1, … */
export function containerIfName(index: number): string {
  return `eth${index}`;
}

/**
 * br0's MAC in this node's sandbox for `vni`. Set, not left to the kernel, which gives a bridge
 * the lowest MAC among its ports — one that changes as containers come and go — while replies
 * to VIP connections are addressed to br0 by MAC (lb.ts). Locally administered (06:…), so never
 * a container's (02:42:…); unique per node and network, as two nodes' bridges exchange frames.
 */
export function sandboxBridgeMac(nodeId: string, vni: number): string {
  const h = createHash('sha256').update(`${nodeId}/${vni}`).digest();
  return ['06', ...[...h.subarray(0, 5)].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

/** Docker's MAC for an IPv4 address; one definition shared with the CLI's `network inspect`. */
export const macFromIp = (ip: string): string => macForIPv4(ip);

/** An nft chain name for a service: `svc_` plus the ID's identifier-safe characters. */
export function serviceChainName(serviceId: string): string {
  return `svc_${serviceId.replace(/[^A-Za-z0-9_]/g, '_')}`;
}

/** The base of the bpffs pins that hand a container's transmit programs to tc (ebpf/fastpath.ts); this node's only. */
export function txPinBase(prefix: string, nodeId: string, taskId: string): string {
  return `${prefix}-${nodeToken(nodeId)}-${taskId.slice(0, 12)}`;
}
