// Letting our forwarded traffic past another firewall's FORWARD policy.
//
// nftables runs every base chain registered at a hook, and a packet must be accepted by all
// of them: the accept in our own `ip tswarm` forward chain does not override a DROP policy
// in iptables' FORWARD chain (iptables-nft's `table ip filter`). dockerd sets exactly that
// policy in the namespace it runs in, which on a real host is the one tswarmd runs in, so
// containers' outbound traffic and the routing mesh (both forwarded through the gateway
// bridge) would be dropped. Like Docker's own bridges, ours then get two ACCEPT rules at the
// top of iptables' FORWARD chain; they are removed when the node leaves the swarm. Where the
// policy accepts (or there is no iptables) nothing is done.
import { CommandError } from './runner.js';
import type { Kernel } from './kernel.js';
import { GATEWAY_BRIDGE } from './names.js';

/** The rules, as iptables arguments after the chain name. */
export const FORWARD_ACCEPT_RULES: readonly (readonly string[])[] = [
  ['-i', GATEWAY_BRIDGE, '-j', 'ACCEPT'],
  ['-o', GATEWAY_BRIDGE, '-j', 'ACCEPT'],
];

/** iptables' FORWARD chain as `-S` prints it; '' without iptables. Listing creates nothing. */
async function forwardChain(k: Kernel): Promise<string> {
  try {
    return await k.iptables(['-S', 'FORWARD']);
  } catch (e) {
    if (e instanceof CommandError) return ''; // no iptables, or no such table here
    throw e;
  }
}

const ruleLine = (rule: readonly string[]) => `-A FORWARD ${rule.join(' ')}`;

/**
 * Inserts the rules that are missing, only when the FORWARD policy drops (otherwise there is
 * nothing to get past, and touching iptables would create its tables for nothing).
 */
export async function allowForwarding(k: Kernel): Promise<void> {
  const chain = await forwardChain(k);
  if (!/^-P FORWARD (DROP|REJECT)$/m.test(chain)) return;
  const present = new Set(chain.split('\n'));
  for (const rule of FORWARD_ACCEPT_RULES) if (!present.has(ruleLine(rule))) await k.iptables(['-I', 'FORWARD', ...rule]);
}

/** Removes the rules that are there; never throws. */
export async function removeForwarding(k: Kernel): Promise<void> {
  const present = new Set((await forwardChain(k).catch(() => '')).split('\n'));
  for (const rule of FORWARD_ACCEPT_RULES) {
    if (present.has(ruleLine(rule))) await k.iptables(['-D', 'FORWARD', ...rule]).catch(() => undefined);
  }
}
