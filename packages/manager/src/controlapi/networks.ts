// Network RPCs: create (validate, allocate, write in one transaction), get, list, remove.
//
// A network's subnet, gateway and VNI are decided here (allocator/networks.ts) and stored;
// addresses on it are given by the leader's allocation step, and `inspect` lists the
// endpoints exactly as the dispatcher's network views describe them to nodes.
import {
  NetworkSpec,
  PublishMode,
  type Cluster,
  type CreateNetworkRequest,
  type CreateNetworkResponse,
  type GetNetworkRequest,
  type GetNetworkResponse,
  type ListNetworksRequest,
  type ListNetworksResponse,
  type Network,
  type RemoveNetworkRequest,
  type RemoveNetworkResponse,
  type Service,
} from '@tswarm/api';
import { DuplicateKeyError } from '@tswarm/store';
import { allocateNetwork } from '../allocator/index.js';
import { DEFAULT_ADDR_POOL, DEFAULT_SUBNET_SIZE } from '../cluster-init.js';
import { clusterTable, networksTable, nodesTable, servicesTable, tasksTable } from '../tables.js';
import { inspectEndpoints } from '../dispatcher/network-views.js';
import { atVersion, touchedMeta, withVersion, type ControlContext } from './context.js';
import { alreadyExists, failedPrecondition, invalidArgument, resourceExhausted, unimplemented } from './errors.js';
import { resolveNetwork } from './resolve.js';
import { checkLabels, MAX_SERVICE_NAME_LENGTH, SERVICE_NAME_RE } from './validate-spec.js';

/** The only driver: swarm-scoped VXLAN overlays. Docker's `bridge`/`host` are node-local and not ours to manage. */
export const OVERLAY_DRIVER = 'overlay';
/**
 * Driver options we know. `encrypted` is accepted and stored now so specs stay stable;
 * the sealed data path (DESIGN: AEAD per frame) will read it. Anything else is refused
 * rather than silently ignored — an ignored option is a setting the user believes holds.
 */
export const KNOWN_DRIVER_OPTS = ['encrypted'] as const;

/**
 * Network names follow service names (DNS labels): containers will resolve them in the
 * same resolver, and one rule is easier to remember than two.
 */
export function checkNetworkName(name: string): void {
  if (!name) throw invalidArgument('a network name is required (tswarm network create NAME)');
  if (name.length > MAX_SERVICE_NAME_LENGTH) {
    throw invalidArgument(`invalid network name "${name}": it is ${name.length} characters long, the limit is ${MAX_SERVICE_NAME_LENGTH} (a DNS label)`);
  }
  if (!SERVICE_NAME_RE.test(name)) {
    throw invalidArgument(`invalid network name "${name}": use letters, digits, "-" and "_", starting and ending with a letter or digit`);
  }
}

/** Checks a spec a user sent and returns a normalized copy (driver defaulted to overlay). */
export function validateNetworkSpec(input: NetworkSpec | undefined): NetworkSpec {
  if (!input) throw invalidArgument('a network spec is required');
  const spec = NetworkSpec.fromPartial(input);
  checkNetworkName(spec.name);
  spec.driver ||= OVERLAY_DRIVER;
  if (spec.driver !== OVERLAY_DRIVER) {
    throw invalidArgument(`network driver "${spec.driver}" is not supported: swarm networks use the "overlay" driver (-d overlay)`);
  }
  checkLabels('network label', spec.labels);
  for (const k of Object.keys(spec.driverOpts)) {
    if (!(KNOWN_DRIVER_OPTS as readonly string[]).includes(k)) {
      throw invalidArgument(`unknown network option "${k}": the overlay driver knows only ${KNOWN_DRIVER_OPTS.map((o) => `"${o}"`).join(', ')}`);
    }
  }
  // The swarm makes its one ingress network at init; a second one would need the routing
  // mesh to choose between them, which Swarm allows and we do not (yet).
  if (spec.ingress) throw unimplemented('creating an ingress network is not supported; the swarm creates "ingress" at init');
  return spec;
}

/** The cluster's address pools, with Docker's defaults when the cluster object has none. */
export function addressPools(cluster: Cluster | undefined): { pools: string[]; subnetSize: number } {
  return {
    pools: cluster?.defaultAddrPool.length ? cluster.defaultAddrPool : DEFAULT_ADDR_POOL,
    subnetSize: cluster?.subnetSize || DEFAULT_SUBNET_SIZE,
  };
}

export function networkRpcs(ctx: ControlContext) {
  const { deps } = ctx;
  const nameInUse = (name: string) => alreadyExists(`network name "${name}" is already in use; choose another name or remove that network first`);

  async function createNetwork(req: CreateNetworkRequest): Promise<CreateNetworkResponse> {
    const spec = validateNetworkSpec(req.spec);
    try {
      const { version, result } = await ctx.write((tx) => {
        // The unique index decides at apply time; checking now gives the same answer
        // before the allocator runs for a doomed request.
        if (tx.find(networksTable, 'byName', spec.name.toLowerCase()).length > 0) throw nameInUse(spec.name);
        const existing = tx.list(networksTable).map((r) => r.object);
        // Like service ports, the subnet/VNI choice is made in this read and not re-checked
        // at apply time; ctx.write serializes this manager's writes (see ControlContext).
        const alloc = allocateNetwork({ requested: spec.ipam, existing, ...addressPools(tx.list(clusterTable)[0]?.object) });
        if (!alloc.ok) {
          if (alloc.code === 'exhausted') throw resourceExhausted(alloc.message);
          if (alloc.code === 'conflict') throw failedPrecondition(alloc.message);
          throw invalidArgument(alloc.message);
        }
        const network: Network = { id: deps.newId(), meta: touchedMeta(undefined, deps.nowMs()), spec, vni: alloc.vni, ipam: alloc.ipam };
        tx.create(networksTable, network);
        return network;
      });
      deps.logger.info('network created', { network: spec.name, id: result.id, subnet: result.ipam?.subnet, vni: result.vni });
      return { network: atVersion(result, version) };
    } catch (e) {
      if (e instanceof DuplicateKeyError) throw nameInUse(spec.name);
      throw e;
    }
  }

  async function getNetwork(req: GetNetworkRequest): Promise<GetNetworkResponse> {
    return ctx.store.view((tx) => {
      const network = withVersion(resolveNetwork(tx, req.networkId));
      const state = {
        networks: tx.list(networksTable).map((r) => r.object),
        services: [],
        tasks: tx.list(tasksTable).map((r) => r.object),
        nodes: tx.list(nodesTable).map((r) => r.object),
      };
      return { network, ...inspectEndpoints(state, network.id) };
    });
  }

  async function listNetworks(_req: ListNetworksRequest): Promise<ListNetworksResponse> {
    const networks = ctx.store.view((tx) => tx.list(networksTable).map(withVersion));
    networks.sort((a, b) => (a.spec?.name ?? '').localeCompare(b.spec?.name ?? '') || a.id.localeCompare(b.id));
    return { networks };
  }

  async function removeNetwork(req: RemoveNetworkRequest): Promise<RemoveNetworkResponse> {
    const { result: name } = await ctx.write((tx) => {
      const cur = resolveNetwork(tx, req.networkId);
      const net = cur.object;
      const name = net.spec?.name || net.id;
      const services = tx.list(servicesTable).map((r) => r.object);
      const users = net.spec?.ingress ? services.filter(publishesThroughMesh) : services.filter((s) => attachedTo(s, net.id));
      if (users.length > 0) throw inUse(name, users, Boolean(net.spec?.ingress));
      tx.delete(networksTable, net.id, cur.version);
      return name;
    });
    deps.logger.info('network removed', { network: name });
    return {};
  }

  return { createNetwork, getNetwork, listNetworks, removeNetwork };
}

/** Services name networks by ID in spec.task.networks (services.ts resolves names at write). */
function attachedTo(s: Service, networkId: string): boolean {
  return (s.spec?.task?.networks ?? []).some((n) => n.target === networkId);
}

/** A service with an ingress-mode published port reaches its replicas through the ingress network. */
function publishesThroughMesh(s: Service): boolean {
  return (s.endpoint?.ports ?? s.spec?.endpoint?.ports ?? []).some((p) => p.publishMode === PublishMode.PUBLISH_MODE_INGRESS);
}

function inUse(network: string, users: Service[], ingress: boolean) {
  const names = users.map((s) => `"${s.spec?.name || s.id}"`).sort();
  const who = names.length === 1 ? `service ${names[0]}` : `services ${names.join(', ')}`;
  const what = names.length === 1 ? 'the service' : 'the services';
  if (ingress) return failedPrecondition(`network "${network}" is in use by ${who} (published ports use the routing mesh); remove ${what} or their published ports first`);
  return failedPrecondition(`network "${network}" is in use by ${who}; remove ${what} first`);
}
