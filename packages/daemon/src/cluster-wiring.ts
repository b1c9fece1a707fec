import { randomUUID } from 'node:crypto';
import Docker from 'dockerode';
import { DispatcherService, Logger, ManagerLogsClient, ManagerLogsService, NodeDescription, RaftMembershipClient } from '@tswarm/api';
import { Agent } from '@tswarm/agent';
import * as grpc from '@grpc/grpc-js';
import { NODE_CHANNEL_OPTIONS, requireRole, StatusError } from '@tswarm/ca';
import { NodeNetworking } from './node-networking.js';
import { DockerExecutor, writeContainerFiles } from '@tswarm/executor-docker';
import {
  controlApi, ControlApiDeps, ControlApiHandlers, controlApiStatus, controlRpcs, Dispatcher, Manager, newObjectId, NO_LEADER_MESSAGE, nodesTable,
  OrchestrationLoop, type RaftMemberInfo, RoleReconciler, serviceLogsHandlers, systemTimers,
} from '@tswarm/manager';
import type { AgentStarter, ManagerWiring } from './swarm-node.js';

/**
 * Builds a started Manager's services: the control API (for the local socket), the
 * dispatcher (cluster port, leader only), `service logs` (any manager; followers forward
 * to the leader over the cluster port), the orchestration loop and the role reconciler
 * that carries out promote/demote (both leader only).
 * `onControl` receives the control API once the manager listens.
 */
export function managerWiring(logger: Logger, onControl: (c: ControlApiHandlers | undefined) => void): ManagerWiring {
  return async (m: Manager) => {
    const store = m.group.store;
    const node = m.group.node;
    const controlDeps: ControlApiDeps = {
      store,
      nowMs: Date.now,
      newId: newObjectId,
      localNodeId: () => m.o.nodeId,
      raft: {
        // Reachability is what this member's Raft sees (the leader: replication progress);
        // unknown counts as unreachable for quorum checks.
        members: () => node.status().members.map((x) => ({ id: x.id, addr: x.address, voter: x.voter, reachable: node.peerActive(x.id) })),
        leader: () => node.status().leader,
        removeMember: (id) => node.removeMember(id),
        leaderView: () => {
          const leader = node.leaderAddress();
          if (node.isLeader() || !leader.address) return Promise.resolve(undefined);
          const client = new RaftMembershipClient(leader.address, m.o.credentials.client({ expectRole: 'manager', expectNodeId: leader.id }), NODE_CHANNEL_OPTIONS);
          return askLeaderView(client, logger);
        },
      },
      logger: logger.child('controlapi'),
    };
    const control = controlApi(controlDeps);
    const dispatcher = new Dispatcher({
      store,
      ...systemTimers,
      rng: Math.random,
      newSessionId: randomUUID,
      managers: () => node.status().members.map((x) => ({ nodeId: x.id, addr: x.address })),
      logger: logger.child('dispatcher'),
      // A removed node keeps a valid certificate until it expires; its missing node object
      // is what tells us it left, so it is refused rather than re-created.
      identify: (call) => {
        const id = requireRole(call as never, ['manager', 'worker'], { clusterId: m.o.clusterId }).nodeId;
        if (!store.view((tx) => tx.get(nodesTable, id))) {
          throw new StatusError(grpc.status.PERMISSION_DENIED, `node ${id} was removed from the swarm; run 'tswarm swarm leave --force' on it and join again`);
        }
        return id;
      },
      leaderAddr: () => node.leaderAddress().address,
    });
    m.addService(DispatcherService, dispatcher.service());
    const rpcs = controlRpcs(controlDeps);
    const logs = serviceLogsHandlers({
      resolveService: (ref) => rpcs.getService({ serviceId: ref }).then((r) => r.service!.id, (e) => Promise.reject(controlApiStatus(e))),
      logs: dispatcher,
      selfAddr: m.o.advertiseAddr,
      leader: () => node.leaderAddress(),
      onLeaderChange: (listener) => node.onLeaderChange((leader) => listener(leader)),
      // Only the manager Raft names as leader may answer: a demoted or impostor node cannot.
      dialLeader: (addr, nodeId) => new ManagerLogsClient(addr, m.o.credentials.client({ expectRole: 'manager', expectNodeId: nodeId }), NODE_CHANNEL_OPTIONS),
      authorize: (call) => requireRole(call, ['manager'], { clusterId: m.o.clusterId }),
      logger: logger.child('logs'),
    });
    m.addService(ManagerLogsService, logs.cluster);
    const orchestration = new OrchestrationLoop({ store, nowMs: Date.now, newId: newObjectId, logger: logger.child('orchestrator') });
    const roles = new RoleReconciler({
      store,
      raft: {
        localId: m.o.nodeId,
        members: () => node.status().members.map((x) => ({ ...x, reachable: node.peerActive(x.id) })),
        removeMember: (id) => node.removeMember(id),
        transferLeadership: (to) => node.transferLeadership(to),
      },
      nowMs: Date.now,
      logger: logger.child('roles'),
    });
    await m.listen([dispatcher, orchestration, roles]);
    onControl({ ...requireLeader(control, () => node.status().leader !== ''), serviceLogs: logs.local });
  };
}

/** How long `node ls` on a follower waits for the leader's view before showing its own. */
const LEADER_VIEW_TIMEOUT_MS = 2_000;

/** The leader's view of the members, or undefined (logged) when it cannot be had in time. */
function askLeaderView(client: RaftMembershipClient, logger: Logger): Promise<{ members: RaftMemberInfo[]; leader: string } | undefined> {
  return new Promise((resolve) => {
    client.members({}, new grpc.Metadata(), { deadline: Date.now() + LEADER_VIEW_TIMEOUT_MS }, (err, r) => {
      client.close();
      if (err) {
        logger.debug('could not ask the leader for its view of the managers; showing this one\'s', { error: err.message });
        return resolve(undefined);
      }
      resolve({ members: r.members.map((x) => ({ id: x.id, addr: x.addr, voter: x.voter, reachable: x.reachable })), leader: r.leaderId });
    });
  });
}

/**
 * Starts the agent with the Docker executor, labelled with this node's ID. `containerEtcDir`
 * holds the resolv.conf and hosts its containers mount.
 */
export function agentStarter(docker: Docker, nodeName: string, containerEtcDir: string): AgentStarter {
  return ({ nodeId, managers, credentials, logger, onSessionMessage }) => {
    let agent: Agent | undefined;
    let networking: NodeNetworking | undefined;
    // The data plane first: containers are created on networking `none` with its resolver
    // as their nameserver, so no task may start before it is up.
    const started = (async () => {
      networking = await NodeNetworking.start({ nodeId, logger });
      const files = await writeContainerFiles(containerEtcDir, networking.containerDns);
      const executor = new DockerExecutor({ nodeId, hostname: nodeName, docker, logger, networking: files });
      agent = new Agent({ executor, dataplane: networking, managers, credentials, logger, onSessionMessage });
      await agent.start();
    })().catch((e: Error) => logger.error('agent failed to start', { error: e.message }));
    return {
      stop: async (leaving = false) => {
        await started;
        await agent?.stop();
        // Leaving: the node's namespaces, links and rules go too. Otherwise they stay for the
        // next tswarmd to adopt, so running containers keep their network across a restart.
        await networking?.close({ teardown: leaving });
      },
      knownManagers: () => agent?.knownManagers() ?? managers,
    };
  };
}

/** What this node tells the managers about itself; the engine's view with our hostname. */
export async function describeNode(docker: Docker, nodeName: string): Promise<NodeDescription> {
  try {
    const info = await docker.info();
    return {
      hostname: nodeName, os: info.OSType, architecture: info.Architecture,
      resources: { nanoCpus: info.NCPU * 1e9, memoryBytes: info.MemTotal }, engineVersion: info.ServerVersion,
    };
  } catch (e) {
    throw new Error(`cannot reach the Docker Engine to describe this node: ${(e as Error).message}; start dockerd or pass --docker-host`);
  }
}

/**
 * Cluster calls need a leader, as in Docker (swarmkit proxies them to it): without one this
 * manager's store may be stale and writes cannot commit, so every call answers at once with
 * what is wrong instead of old data or a proposal timeout. `service logs` checks for itself.
 */
function requireLeader(control: ControlApiHandlers, hasLeader: () => boolean): ControlApiHandlers {
  const gated = Object.entries(control).map(([name, handler]) => [name, (call: unknown, cb: grpc.sendUnaryData<unknown>) => {
    if (hasLeader()) return (handler as (c: unknown, cb: unknown) => void)(call, cb);
    cb({ code: grpc.status.FAILED_PRECONDITION, details: NO_LEADER_MESSAGE } as grpc.ServiceError);
  }]);
  return Object.fromEntries(gated) as unknown as ControlApiHandlers;
}
