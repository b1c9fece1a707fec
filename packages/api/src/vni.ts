/**
 * How the 24-bit VXLAN network identifier space (RFC 7348 §5) is split. The cluster allocates
 * its networks' VNIs from CLUSTER_VNI_MIN up (like Docker, from 4096); the top 2^20 are left
 * to each node, whose data plane gives every container's transmit device (one per overlay
 * network, packages/network tx-plan.ts) a VNI of its own there, which other nodes send to the
 * container on (TaskStatus.receive) — a VNI is unique per namespace and UDP port, and those
 * devices share the port with the networks' own devices.
 */
export const CLUSTER_VNI_MIN = 4096;
export const NODE_LOCAL_VNI_MIN = 0xf00000;
export const CLUSTER_VNI_MAX = NODE_LOCAL_VNI_MIN - 1;
export const NODE_LOCAL_VNI_MAX = 2 ** 24 - 1;
