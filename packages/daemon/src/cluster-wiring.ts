import { randomUUID } from 'node:crypto';
import Docker from 'dockerode';
import { DispatcherService, Logger, NodeDescription } from '@tswarm/api';
import { Agent } from '@tswarm/agent';
import * as grpc from '@grpc/grpc-js';
import { clientCredentials, requireRole, StatusError } from '@tswarm/ca';
import { DockerExecutor } from '@tswarm/executor-docker';
import { controlApi, ControlApiHandlers, Dispatcher, Manager, newObjectId, nodesTable, OrchestrationLoop, systemTimers } from '@tswarm/manager';
import type { AgentStarter, ManagerWiring } from './swarm-node.js';

/**
 * Builds a started Manager's services: the control API (for the local socket), the
 * dispatcher (cluster port, leader only) and the orchestration loop (leader only).
 * `onControl` receives the control API once the manager listens.
 */
export function managerWiring(logger: Logger, onControl: (c: ControlApiHandlers | undefined) => void): ManagerWiring {
  return async (m: Manager) => {
    const store = m.group.store;
    const node = m.group.node;
    const control = controlApi({
      store,
      nowMs: Date.now,
      newId: newObjectId,
      localNodeId: () => m.o.nodeId,
      raft: {
        // Reachability is what the leader's transport last saw; unknown counts as unreachable.
        members: () => node.status().members.map((x) => ({ id: x.id, addr: x.address, voter: x.voter, reachable: x.id === m.o.nodeId ? true : undefined })),
        leader: () => node.status().leader,
        removeMember: (id) => node.removeMember(id),
      },
      logger: logger.child('controlapi'),
    });
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
    await m.listen([dispatcher, orchestration]);
    onControl(control);
  };
}

/** Starts the agent with the Docker executor, labelled with this node's ID. */
export function agentStarter(docker: Docker, nodeName: string): AgentStarter {
  return ({ nodeId, managers, tls, logger }) => {
    const executor = new DockerExecutor({ nodeId, hostname: nodeName, docker, logger });
    const agent = new Agent({ executor, managers, credentials: clientCredentials({ ...tls, expectRole: 'manager' }), logger });
    void agent.start().catch((e: Error) => logger.error('agent failed to start', { error: e.message }));
    return { stop: () => agent.stop() };
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
