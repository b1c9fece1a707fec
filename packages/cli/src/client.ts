import * as grpc from '@grpc/grpc-js';
import { ControlClient, DaemonClient, HostAddress, grpcTarget } from '@tswarm/api';
import { CliError } from './errors.js';

/** How long a plain request waits for the daemon before giving up. */
export const DEFAULT_DEADLINE_MS = 30_000;

/** The gRPC clients the commands use, all on one channel to the local daemon. */
export interface Clients {
  host: HostAddress;
  daemon: DaemonClient;
  control: ControlClient;
  close(): void;
}

export function connect(host: HostAddress): Clients {
  const target = grpcTarget(host);
  const daemon = new DaemonClient(target, grpc.credentials.createInsecure());
  // Same target, and the daemon client's channel: one connection to the socket for both services.
  const control = new ControlClient(target, grpc.credentials.createInsecure(), { channelOverride: daemon.getChannel() });
  return { host, daemon, control, close: () => daemon.close() };
}

type Unary<Req, Res> = (req: Req, md: grpc.Metadata, opts: Partial<grpc.CallOptions>, cb: (err: grpc.ServiceError | null, res: Res) => void) => grpc.ClientUnaryCall;

/**
 * Calls a unary RPC and turns transport failures into one-line user errors.
 * The daemon's own error messages (status details) are passed through unchanged.
 */
export function call<Req, Res>(clients: Clients, method: Unary<Req, Res>, self: object, req: Req, deadlineMs = DEFAULT_DEADLINE_MS): Promise<Res> {
  return new Promise((resolve, reject) => {
    method.call(self, req, new grpc.Metadata(), { deadline: Date.now() + deadlineMs }, (err, res) => {
      if (err) reject(translate(err, clients.host));
      else resolve(res);
    });
  });
}

export function translate(err: grpc.ServiceError, host: HostAddress): CliError {
  if (err.code === grpc.status.UNAVAILABLE && /connect|No connection established|ENOENT|ECONNREFUSED/i.test(err.details ?? err.message)) {
    return new CliError(`Cannot connect to the tswarm daemon at ${host.url}. Is tswarmd running? Start it with 'tswarmd &' (as root), or point -H/TSWARM_HOST at its socket.`);
  }
  if (err.code === grpc.status.DEADLINE_EXCEEDED) {
    return new CliError(`the tswarm daemon at ${host.url} did not answer in time; check its log`);
  }
  return new CliError(err.details || err.message);
}
