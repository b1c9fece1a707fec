// The node namespace's own nft table `ip tswarm` (never any other table). Pure renderer.
//
//   postrouting (nat, 100)   masquerade what leaves the gateway subnet by another interface;
//                            and hairpin: DNATed traffic sent back onto the gateway bridge is
//                            masqueraded too, so a container reaching a port published on its
//                            own node gets replies through this namespace's conntrack
//   forward (filter, 0)      accept traffic to and from the gateway bridge
//   prerouting (nat, -100)   fib daddr type local → jump ports
//   output (nat, -100)       same for local clients, loopback destinations excluded
//   ports                    published ports (ports.ts), rewritten on its own
//   underlay_in/_out (raw)   the overlay's own VXLAN packets skip conntrack: every data-path
//                            packet crosses this namespace once more, encapsulated, and no rule
//                            here translates or filters them by state (their UDP socket is
//                            in this namespace; ≈ 2–3 % of a bulk transfer's CPU per side).
//                            Rendered once the data-path port is known (from the first view).
// Written with `add table/chain` + `flush chain` so re-running it at start-up (adoption)
// keeps the `ports` chain serving until the first view rewrites it.
import { HOST_TABLE, GATEWAY_BRIDGE } from './names.js';
import { PORTS_CHAIN } from './ports.js';
import { rewriteChainLines } from './nft.js';

function baseChain(name: string, head: string, rules: readonly string[]): string[] {
  return [`add chain ip ${HOST_TABLE} ${name} { ${head} }`, ...rewriteChainLines(HOST_TABLE, name, rules)];
}

export function renderHostBase(gatewaySubnet: string): string {
  const br = `"${GATEWAY_BRIDGE}"`;
  return [
    `add table ip ${HOST_TABLE}`,
    `add chain ip ${HOST_TABLE} ${PORTS_CHAIN}`,
    ...baseChain('postrouting', 'type nat hook postrouting priority 100; policy accept;', [
      `ip saddr ${gatewaySubnet} oifname != ${br} masquerade`,
      `oifname ${br} ct status dnat ip saddr ${gatewaySubnet} masquerade`,
    ]),
    ...baseChain('forward', 'type filter hook forward priority 0; policy accept;', [`iifname ${br} accept`, `oifname ${br} accept`]),
    ...baseChain('prerouting', 'type nat hook prerouting priority -100; policy accept;', [`fib daddr type local jump ${PORTS_CHAIN}`]),
    ...baseChain('output', 'type nat hook output priority -100; policy accept;', [`ip daddr != 127.0.0.0/8 fib daddr type local jump ${PORTS_CHAIN}`]),
  ].join('\n') + '\n';
}

export function renderHostPorts(rules: readonly string[]): string {
  return rewriteChainLines(HOST_TABLE, PORTS_CHAIN, rules).join('\n') + '\n';
}

/** The underlay chains for VXLAN on UDP `port` (idempotent; rewrites both chains). */
export function renderUnderlayNotrack(port: number): string {
  return [
    `add table ip ${HOST_TABLE}`,
    ...baseChain('underlay_in', 'type filter hook prerouting priority raw; policy accept;', [`udp dport ${port} notrack`]),
    ...baseChain('underlay_out', 'type filter hook output priority raw; policy accept;', [`udp dport ${port} notrack`]),
  ].join('\n') + '\n';
}
