// The allocator's front door: pure network allocation (subnet, gateway, VNI) and the
// IPv4 CIDR helpers it is built on. The task/VIP address allocator will live here too.
export * from './cidr.js';
export * from './networks.js';
