import * as grpc from '@grpc/grpc-js';
import { ControlServer } from '@tswarm/api';
import { SwarmError, SwarmNode } from './swarm-node.js';

/** Docker's words for cluster calls on a node that cannot answer them. */
export const NOT_IN_SWARM = 'This node is not a swarm manager. Use "tswarm swarm init" or "tswarm swarm join" to connect this node to swarm and try again.';
export const WORKER_NODE = "This node is not a swarm manager. Worker nodes can't be used to view or modify cluster state. Please run this command on a manager node or promote the current node to a manager.";

type ClusterCalls = Omit<ControlServer, 'init' | 'join' | 'leave'>;

/**
 * The Control service on the local socket: init/join/leave act on this node; every other
 * call goes to this node's manager (`cluster()`), or is refused with what to do.
 */
export function localControlService(node: SwarmNode, cluster: () => ClusterCalls | undefined): ControlServer {
  const swarmCall = <Req, Res>(fn: (req: Req) => Promise<Res>) =>
    (call: grpc.ServerUnaryCall<Req, Res>, cb: grpc.sendUnaryData<Res>) => {
      fn(call.request).then((r) => cb(null, r), (e: Error) =>
        cb({ code: e instanceof SwarmError ? e.code : grpc.status.INTERNAL, details: e.message } as grpc.ServiceError));
    };
  const refuse = (): grpc.ServiceError => ({ code: grpc.status.FAILED_PRECONDITION, details: node.role === 'worker' ? WORKER_NODE : NOT_IN_SWARM } as grpc.ServiceError);
  const delegate = new Proxy({} as ClusterCalls, {
    get: (_t, method: string) => (call: grpc.ServerUnaryCall<unknown, unknown> & grpc.ServerWritableStream<unknown, unknown>, cb?: grpc.sendUnaryData<unknown>) => {
      const impl = cluster() as unknown as Record<string, Function> | undefined;
      if (impl && typeof impl[method] === 'function') return impl[method]!(call, cb);
      if (cb) return cb(refuse());
      call.emit('error', refuse());
    },
  });
  return {
    ...Object.fromEntries(CLUSTER_METHODS.map((m) => [m, (delegate as unknown as Record<string, unknown>)[m]])),
    init: swarmCall((req) => node.init(req)),
    join: swarmCall((req) => node.join(req)),
    leave: swarmCall(async (req) => {
      await node.leave(req.force);
      return {};
    }),
  } as ControlServer;
}

const CLUSTER_METHODS = [
  'getJoinToken', 'inspectSwarm', 'listNodes', 'getNode', 'updateNode', 'removeNode', 'createService', 'getService',
  'listServices', 'updateService', 'removeService', 'listTasks', 'getTask', 'serviceLogs',
  'createNetwork', 'getNetwork', 'listNetworks', 'removeNetwork',
] as const;
