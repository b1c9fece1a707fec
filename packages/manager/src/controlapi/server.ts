// The control API as gRPC handlers. The RPCs themselves are plain async functions
// (controlRpcs) so tests and the leader-forwarding path can call them without gRPC;
// controlApi() adapts them to grpc-js and turns every failure into one status.
import * as grpc from '@grpc/grpc-js';
import type { ControlServer, LogMessage, ServiceLogsRequest } from '@tswarm/api';
import { ControlContext, type ControlApiDeps } from './context.js';
import { toStatus, unimplemented } from './errors.js';
import { networkRpcs } from './networks.js';
import { nodeRpcs } from './nodes.js';
import { serviceRpcs } from './services.js';
import { swarmRpcs } from './swarm.js';
import { taskRpcs } from './tasks.js';

/** Everything but swarm membership (init/join/leave), which the daemon serves itself. */
export type ControlApiMethod =
  | 'getJoinToken'
  | 'inspectSwarm'
  | 'listNodes'
  | 'getNode'
  | 'updateNode'
  | 'removeNode'
  | 'createService'
  | 'getService'
  | 'listServices'
  | 'updateService'
  | 'removeService'
  | 'listTasks'
  | 'getTask'
  | 'createNetwork'
  | 'getNetwork'
  | 'listNetworks'
  | 'removeNetwork'
  | 'serviceLogs';

export type ControlApiHandlers = Pick<ControlServer, ControlApiMethod>;

/** The unary RPCs as `(request) => Promise<response>`; failures reject with StatusError (or a store/Raft error toStatus() maps). */
export type ControlRpcs = ReturnType<typeof controlRpcs>;

export function controlRpcs(deps: ControlApiDeps) {
  const ctx = new ControlContext(deps);
  return { ...swarmRpcs(ctx), ...nodeRpcs(ctx), ...serviceRpcs(ctx), ...taskRpcs(ctx), ...networkRpcs(ctx) };
}

type Unary<Req, Res> = (req: Req) => Promise<Res>;

export function controlApi(deps: ControlApiDeps): ControlApiHandlers {
  const rpcs = controlRpcs(deps);
  const log = deps.logger;
  const unary =
    <Req, Res>(name: string, fn: Unary<Req, Res>): grpc.handleUnaryCall<Req, Res> =>
    (call, callback) => {
      // fn may throw synchronously or reject; both end as one status to the caller.
      Promise.resolve()
        .then(() => fn(call.request))
        .then(
          (res) => callback(null, res),
          (err: unknown) => {
            const status = toStatus(err);
            if (status.code === grpc.status.INTERNAL) log.error(`control api ${name} failed`, { error: (err as Error)?.stack ?? String(err) });
            else log.debug(`control api ${name} refused`, { code: grpc.status[status.code], details: status.details });
            callback(status, null);
          },
        );
    };
  return {
    getJoinToken: unary('getJoinToken', rpcs.getJoinToken),
    inspectSwarm: unary('inspectSwarm', rpcs.inspectSwarm),
    listNodes: unary('listNodes', rpcs.listNodes),
    getNode: unary('getNode', rpcs.getNode),
    updateNode: unary('updateNode', rpcs.updateNode),
    removeNode: unary('removeNode', rpcs.removeNode),
    createService: unary('createService', rpcs.createService),
    getService: unary('getService', rpcs.getService),
    listServices: unary('listServices', rpcs.listServices),
    updateService: unary('updateService', rpcs.updateService),
    removeService: unary('removeService', rpcs.removeService),
    listTasks: unary('listTasks', rpcs.listTasks),
    getTask: unary('getTask', rpcs.getTask),
    createNetwork: unary('createNetwork', rpcs.createNetwork),
    getNetwork: unary('getNetwork', rpcs.getNetwork),
    listNetworks: unary('listNetworks', rpcs.listNetworks),
    removeNetwork: unary('removeNetwork', rpcs.removeNetwork),
    serviceLogs: (call: grpc.ServerWritableStream<ServiceLogsRequest, LogMessage>) => {
      // TODO(dispatcher): stream from the agents once the dispatcher collects logs.
      call.emit(
        'error',
        unimplemented('service logs are not implemented yet: the dispatcher does not collect logs; use "docker logs" on the node that runs the task'),
      );
    },
  };
}
