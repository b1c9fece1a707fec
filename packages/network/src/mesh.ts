// Applying published-port plans: the ingress sandbox's `ports` chain and the node's `ports`
// chain, each rewritten only when its planned rules changed (one nft transaction each).
// Called from LinuxDataplane's queue only; failures are logged and force a rewrite next time.
import type { Logger, NetworkView } from '@tswarm/api';
import type { Kernel } from './kernel.js';
import { INGRESS_TABLE } from './names.js';
import { rewriteChainLines, sameLines } from './nft.js';
import { ingressNetworkOf, planHostPortRules, planIngressRules, renderIngressTable, PORTS_CHAIN, type LocalTaskPorts } from './ports.js';
import { renderHostPorts } from './host-table.js';
import type { SandboxState } from './sandbox-set.js';

export interface PortsState {
  /** Rules in the node's `ports` chain; null = unknown (rewrite). */
  hostRules: string[] | null;
}

const EMPTY_VIEW: NetworkView = { networks: [], endpoints: [], services: [], nodes: [], dataPathPort: 0 };

export async function syncIngress(k: Kernel, sb: SandboxState | undefined, view: NetworkView, log: Logger): Promise<void> {
  const net = ingressNetworkOf(view);
  if (!sb?.ingress || !net) return;
  const rules = planIngressRules(view, net.id);
  const state = sb.ingress;
  if (state.rules && sameLines(state.rules, rules)) return;
  try {
    await k.nft(sb.name, state.rules ? rewriteChainLines(INGRESS_TABLE, PORTS_CHAIN, rules).join('\n') + '\n' : renderIngressTable(rules));
    state.rules = rules;
  } catch (e) {
    state.rules = null;
    log.warn('routing-mesh rules not applied', { sandbox: sb.name, error: String(e) });
  }
}

export async function syncHostPorts(k: Kernel, st: PortsState, view: NetworkView | undefined, local: readonly LocalTaskPorts[], ingressIp: string | undefined, log: Logger): Promise<void> {
  const rules = planHostPortRules(view ?? EMPTY_VIEW, local, ingressIp);
  if (st.hostRules && sameLines(st.hostRules, rules)) return;
  try {
    await k.nft(undefined, renderHostPorts(rules));
    st.hostRules = rules;
  } catch (e) {
    st.hostRules = null;
    log.warn('published-port rules not applied', { error: String(e) });
  }
}
