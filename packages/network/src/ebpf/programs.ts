// The overlay's eBPF fast path: two tc (cls_bpf, direct-action) programs per sandbox that take
// unicast frames between a local container and the VXLAN device past the sandbox bridge, as
// Cilium does with its per-endpoint programs. Pure: a plan in, instructions out.
//
//   fromOverlay — on the VXLAN device's tc ingress (decapsulated frames arriving from peers).
//     First, IPv4 frames that must go up to br0 on their way (lb.ts: TCP/UDP to a port in
//     VIP_SOURCE_PORTS — replies to VIP connections —, fragments, ICMP errors, a header with
//     options, where the ports are not at a fixed offset) → TC_ACT_OK: the bridge, whose table
//     sends them up. Then:
//     dst MAC = a local endpoint's → set pkt_type to PACKET_HOST and bpf_redirect_peer() to
//     the sandbox-side veth of that endpoint: the frame appears on the container's eth0 as if
//     the veth had delivered it, skipping br0 and the veth transmit. (The VXLAN device's
//     eth_type_trans marked it PACKET_OTHERHOST — the MAC is not the device's — and ip_rcv in
//     the container drops OTHERHOST packets; the veth would have re-marked it on the way.)
//     Anything else (broadcast, ARP, the bridge's own MAC, unknown) → TC_ACT_OK: the bridge.
//   toOverlay — on each local endpoint's sandbox-side veth tc ingress (frames leaving the
//     container). dst MAC unicast, not a local endpoint, not br0's → bpf_redirect() to the
//     VXLAN device's egress, whose FDB picks the remote VTEP exactly as when the bridge hands
//     it the frame (RFC 7348 §4; peers.ts programs the FDB). Anything else → TC_ACT_OK. (A
//     reply to a VIP connection from a local backend is addressed to a local container: it
//     stays on the bridge, which sends it up; one to a remote client is redirected, and its
//     node's fromOverlay sends it up there.)
//   txReceive — on the ingress of a container's transmit device (tx-plan.ts), the VXLAN device
//     the container's routes send to remote endpoints through, and on whose own VNI other
//     nodes' transmit devices send to it. What must meet the sandbox's conntrack first (the
//     kinds upToBridge picks: replies to VIP connections, fragments, ICMP errors, options) is
//     bpf_redirect()ed out of the container's ethN, so it reaches the sandbox's bridge as if
//     the container had sent it, and table `bridge tswarm_lb` sends it up to br0 (lb.ts) as
//     it does those arriving on the sandbox's VXLAN device. Anything else → TC_ACT_OK: the
//     container's own stack takes it, as from a bare VXLAN device.
//
// No maps: the MACs and ifindexes are immediates, so a program is a pure function of the
// sandbox's local endpoints and is regenerated (and replaced atomically with `tc filter
// replace`) when they change. Lookup is a linear scan, 9 instructions per endpoint; a sandbox
// holds a node's containers of one network (tens), far from the verifier's limits.
import { VIP_SOURCE_PORTS } from '../lb.js';
import { Asm, type Reg } from './asm.js';

/** Helper IDs (include/uapi/linux/bpf.h, enum bpf_func_id). */
export const BPF_FUNC_REDIRECT = 23;
export const BPF_FUNC_SKB_CHANGE_TYPE = 32;
export const BPF_FUNC_REDIRECT_PEER = 155;
/** tc verdicts (include/uapi/linux/pkt_cls.h). */
export const TC_ACT_OK = 0;
export const TC_ACT_SHOT = 2;
/** skb->pkt_type for "to us" (include/uapi/linux/if_packet.h). */
const PACKET_HOST = 0;
/** struct __sk_buff offsets of data and data_end (u32 each; the verifier rewrites the loads). */
const SKB_DATA = 76;
const SKB_DATA_END = 80;
const ETH_ALEN = 6;
/** Offsets in an Ethernet frame carrying IPv4 without options (IHL 5). */
const ETH_TYPE = 12;
const IP_VER_IHL = 14;
const IP_FRAG = 20;
const IP_PROTO = 23;
const ICMP_TYPE = 34;
const L4_DPORT = 36;
/** The bytes read to decide: up to the destination port's last. */
const DECIDE_LEN = L4_DPORT + 2;
/** 0x0800 (IPv4) as `ldxh` reads it: the two bytes as a little-endian u16. */
const ETH_P_IP_LE = 0x0008;
/** Flags and offset as `ldxh` reads them: MF and the 13-bit offset, in little-endian order (network 0x3fff). */
const IP_MF_OFFSET_LE = 0xff3f;
const IPPROTO_ICMP = 1;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
/** ICMP errors, which quote the packet they answer (RFC 792): destination unreachable, time exceeded, parameter problem. */
const ICMP_ERRORS = [3, 11, 12] as const;

export interface LocalEndpoint {
  /** The container end's MAC (aa:bb:cc:dd:ee:ff). */
  readonly mac: string;
  /** ifindex of the sandbox-side veth, in the sandbox's namespace. */
  readonly ifindex: number;
}

export interface FastPathPlan {
  /** ifindex of the sandbox's VXLAN device, in the sandbox's namespace. */
  readonly vxlanIfindex: number;
  /** br0's MAC: frames to it (the ingress sandbox's own address) stay on the bridge. */
  readonly bridgeMac: string;
  /** Local endpoints whose veth is in place: from-overlay redirects to them. Sorted by MAC, unique MACs. */
  readonly endpoints: readonly LocalEndpoint[];
  /**
   * Every local endpoint's MAC, whether or not its veth is in place yet: to-overlay keeps
   * frames to all of them on the bridge (sent to the VXLAN device they would be dropped, as
   * its FDB holds remote MACs only). Sorted, unique.
   */
  readonly localMacs: readonly string[];
}

/**
 * A MAC as the two words the programs compare: bytes 0–3 as a little-endian u32 and bytes
 * 4–5 as a little-endian u16 — what `ldxw [data+0]` and `ldxh [data+4]` read on the host.
 */
export function macWords(mac: string): { hi: number; lo: number } {
  const parts = mac.split(':');
  if (parts.length !== ETH_ALEN || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) throw new Error(`not a MAC address: ${mac}`);
  const b = Buffer.from(parts.map((p) => parseInt(p, 16)));
  return { hi: b.readUInt32LE(0), lo: b.readUInt16LE(4) };
}

// Registers: r6 = ctx (callee-saved across helper calls), r7/r8 = dst MAC words.
const CTX: Reg = 6;
const HI: Reg = 7;
const LO: Reg = 8;

/** Common prologue: r6 = ctx; r7, r8 = dst MAC words; frames shorter than a MAC go to `pass`. */
function loadDstMac(a: Asm): Asm {
  return a
    .mov(CTX, 1)
    .ldxW(2, 1, SKB_DATA)
    .ldxW(3, 1, SKB_DATA_END)
    .mov(4, 2)
    .addImm(4, ETH_ALEN)
    .jgt(4, 3, 'pass')
    .ldxW(HI, 2, 0)
    .ldxH(LO, 2, 4);
}

function pass(a: Asm): Asm {
  return a.label('pass').movImm(0, TC_ACT_OK).exit();
}

/**
 * IPv4 frames that must take the bridge (see the file comment) jump to `pass`; others go on at
 * `dispatch`. Uses r2 (data) and r3 (data end) as loadDstMac left them, and r4.
 */
function upToBridge(a: Asm): Asm {
  const hi = VIP_SOURCE_PORTS.first >> 8;
  const lo = VIP_SOURCE_PORTS.first & 0xff;
  a
    .mov(4, 2)
    .addImm(4, DECIDE_LEN)
    .jgt(4, 3, 'dispatch') // shorter than an IPv4 header and ports: nothing to send up
    .ldxH(4, 2, ETH_TYPE)
    .jneImm(4, ETH_P_IP_LE, 'dispatch')
    .ldxB(4, 2, IP_VER_IHL)
    .jneImm(4, 0x45, 'pass')
    .ldxH(4, 2, IP_FRAG)
    .andImm(4, IP_MF_OFFSET_LE)
    .jneImm(4, 0, 'pass')
    .ldxB(4, 2, IP_PROTO)
    .jeqImm(4, IPPROTO_ICMP, 'icmp')
    .jeqImm(4, IPPROTO_TCP, 'ports')
    .jneImm(4, IPPROTO_UDP, 'dispatch')
    .label('ports') // destination port ≥ VIP_SOURCE_PORTS.first, compared byte by byte (network order)
    .ldxB(4, 2, L4_DPORT)
    .jgtImm(4, hi, 'pass')
    .jneImm(4, hi, 'dispatch')
    .ldxB(4, 2, L4_DPORT + 1)
    .jgtImm(4, lo - 1, 'pass')
    .ja('dispatch')
    .label('icmp')
    .ldxB(4, 2, ICMP_TYPE);
  for (const t of ICMP_ERRORS) a.jeqImm(4, t, 'pass');
  return a.label('dispatch');
}

/** The VXLAN device's ingress program (see the file comment). */
export function fromOverlayProgram(plan: FastPathPlan): Asm {
  const a = upToBridge(loadDstMac(new Asm()));
  plan.endpoints.forEach((ep, i) => {
    const { hi, lo } = macWords(ep.mac);
    const next = `next${i}`;
    a.jne32Imm(HI, hi, next)
      .jneImm(LO, lo, next)
      .mov(1, CTX)
      .movImm(2, PACKET_HOST)
      .call(BPF_FUNC_SKB_CHANGE_TYPE)
      .movImm(1, ep.ifindex)
      .movImm(2, 0)
      .call(BPF_FUNC_REDIRECT_PEER) // r0 = TC_ACT_REDIRECT, or TC_ACT_SHOT on bad flags
      .exit()
      .label(next);
  });
  return pass(a);
}

/** The program on each local endpoint's sandbox-side veth ingress (see the file comment). */
export function toOverlayProgram(plan: FastPathPlan): Asm {
  const a = loadDstMac(new Asm());
  // Group bit (first octet's lowest bit = the lowest bit of the little-endian word):
  // broadcast and multicast stay on the bridge.
  a.mov(4, HI).andImm(4, 1).jneImm(4, 0, 'pass');
  [plan.bridgeMac, ...plan.localMacs].forEach((mac, i) => {
    const { hi, lo } = macWords(mac);
    a.jne32Imm(HI, hi, `other${i}`).jneImm(LO, lo, `other${i}`).ja('pass').label(`other${i}`);
  });
  a.movImm(1, plan.vxlanIfindex).movImm(2, 0).call(BPF_FUNC_REDIRECT).exit();
  return pass(a);
}

/**
 * The transmit device's ingress program (see the file comment); `ethIfindex` is the container
 * interface beside it, in the container's namespace. Here `pass` (upToBridge's "take the
 * bridge", and frames too short to read) leads out through that interface.
 */
export function txReceiveProgram(ethIfindex: number): Asm {
  const a = upToBridge(loadDstMac(new Asm()));
  a.movImm(0, TC_ACT_OK).exit();
  return a.label('pass').movImm(1, ethIfindex).movImm(2, 0).call(BPF_FUNC_REDIRECT).exit();
}
