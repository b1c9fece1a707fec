// The front door of @tswarm/network: the Linux overlay data plane (implements the agent's
// Dataplane contract) and its options, plus the pieces a composition root or a test may need.
export { LinuxDataplane, DEFAULT_RESYNC_INTERVAL_MS } from './linux-dataplane.js';
export type { LinuxDataplaneOptions } from './linux-dataplane.js';
export { execRunner, CommandError } from './runner.js';
export { FORWARD_ACCEPT_RULES, allowForwarding, removeForwarding } from './forward-policy.js';
export type { CommandRunner } from './runner.js';
export * from './names.js';
export { parseIp, formatIp, parseCidr, addrOf } from './ipv4.js';
export { GatewayAllocator, gatewayPlan, pickGatewaySubnet, GATEWAY_SUBNET_CANDIDATES } from './gateway.js';
export type { GatewayPlan } from './gateway.js';
export { underlayMtu, overlayMtu, VXLAN_OVERHEAD_BYTES, DEFAULT_UNDERLAY_MTU } from './mtu.js';
export { desiredPeers, diffPeers, peerCommands, parseKernelPeers, ipFromMac, underlayHost } from './peers.js';
export type { Peer, PeerDiff, PeerTable } from './peers.js';
export { planContainerLb, renderLbFull, renderLbDiff, activeBackends, VIP_SOURCE_PORTS } from './lb.js';
export type { LbChain, LbPlan } from './lb.js';
export { planHostPortRules, planIngressRules, renderIngressTable, needsIngressMesh, ingressNetworkOf, protoName } from './ports.js';
export type { LocalTaskPorts } from './ports.js';
export { renderHostBase, renderHostPorts, renderUnderlayNotrack } from './host-table.js';
export { dnatSpread, replaceTableScript } from './nft.js';
export { Asm, encode } from './ebpf/asm.js';
export type { Insn, Reg } from './ebpf/asm.js';
export { fromOverlayProgram, toOverlayProgram, macWords, BPF_FUNC_REDIRECT, BPF_FUNC_REDIRECT_PEER, BPF_FUNC_SKB_CHANGE_TYPE, TC_ACT_OK } from './ebpf/programs.js';
export type { FastPathPlan, LocalEndpoint } from './ebpf/programs.js';
export { planFastPath, attachLines, detachLines, FASTPATH_PREF } from './ebpf/plan.js';
export type { SandboxEndpoint, FastPathLayout } from './ebpf/plan.js';
export { nativeLoader, BpfLoadError, verifierSummary } from './ebpf/loader.js';
export type { BpfLoader } from './ebpf/loader.js';
export { FastPath, PIN_DIR } from './ebpf/fastpath.js';
