import { randomUUID } from 'node:crypto';
import Docker from 'dockerode';
import { DispatcherService, LogMessage, Logger, NodeDescription, ServiceLogsRequest } from '@tswarm/api';
import { Agent } from '@tswarm/agent';
import * as grpc from '@grpc/grpc-js';
import { requireRole, StatusError } from '@tswarm/ca';
import { NodeNetworking } from './node-networking.js';
import { DockerExecutor } from '@tswarm/executor-docker';
import {
  controlApi, ControlApiDeps, ControlApiHandlers, controlRpcs, ControlRpcs, Dispatcher, Manager, newObjectId, nodesTable, OrchestrationLoop, RoleReconciler,
  systemTimers,
} from '@tswarm/manager';
import type { AgentStarter, ManagerWiring } from './swarm-node.js';

/**
 * Builds a started Manager's services: the control API (for the local socket), the
 * dispatcher (cluster port, leader only), the orchestration loop and the role
 * reconciler that carries out promote/demote (both leader only).
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
    onControl({ ...control, serviceLogs: serviceLogs(controlRpcs(controlDeps), dispatcher, () => node.leaderAddress().address) });
  };
}

/** Starts the agent with the Docker executor, labelled with this node's ID. */
export function agentStarter(docker: Docker, nodeName: string): AgentStarter {
  return ({ nodeId, managers, credentials, logger, onSessionMessage }) => {
    let agent: Agent | undefined;
    let networking: NodeNetworking | undefined;
    // The data plane first: containers are created on networking `none` with its resolver
    // as their nameserver, so no task may start before it is up.
    const started = (async () => {
      networking = await NodeNetworking.start({ nodeId, logger });
      const executor = new DockerExecutor({ nodeId, hostname: nodeName, docker, logger, networking: { dns: networking.containerDns } });
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
 * `service logs`: the leader's dispatcher asks the agents running the service's tasks for
 * their containers' logs and streams what they publish. Other managers point at the leader.
 */
function serviceLogs(rpcs: ControlRpcs, dispatcher: Dispatcher, leaderAddr: () => string | undefined) {
  return (call: grpc.ServerWritableStream<ServiceLogsRequest, LogMessage>): void => {
    void (async () => {
      const { service } = await rpcs.getService({ serviceId: call.request.serviceId });
      if (!dispatcher.running) {
        const leader = leaderAddr();
        throw new StatusError(grpc.status.FAILED_PRECONDITION, `logs are collected by the leader manager${leader ? ` (${leader.split(':')[0]})` : ''}; run this command on it`);
      }
      const stream = dispatcher.subscribeLogs({ serviceId: service!.id, follow: call.request.follow, tail: Number(call.request.tail) });
      call.on('cancelled', () => stream.close());
      for await (const msg of stream) {
        if (call.cancelled) break;
        call.write(msg);
      }
      call.end();
    })().catch((e: { code?: number; details?: string; message: string }) => {
      call.destroy(Object.assign(new Error(e.details ?? e.message), { code: e.code ?? grpc.status.UNAVAILABLE, details: e.details ?? e.message }));
    });
  };
}
