// `service logs` on any manager. Only the Raft leader's dispatcher collects log lines from the
// agents (dispatcher/logs.ts); a manager that is not the leader forwards the request to the
// leader's cluster port (ManagerLogs, mutual TLS between managers, proto/tswarm/v1/logs.proto)
// and relays the stream to its own client, `-f` included, until the client goes away.
//
// A stream never silently moves to another leader: the new leader's agents would replay their
// tails and the user would see lines twice. When the leader changes mid-stream (this manager
// loses leadership, the forwarded-to leader stops leading or dies, or this manager's Raft
// names another leader) the stream ends with one line saying so, and the user runs it again.
import * as grpc from '@grpc/grpc-js';
import type { LogMessage, Logger, ManagerLogsClient, ManagerLogsServer, ServiceLogsRequest } from '@tswarm/api';
import { StatusError } from '@tswarm/ca';
import type { LogStream, LogSubscribeOptions } from './dispatcher/logs.js';

/** Docker's words when a manager cannot reach a leader (swarmkit's raft proxy). */
export const NO_LEADER_MESSAGE =
  "The swarm does not have a leader. It's possible that too few managers are online. Make sure more than half of the managers are online.";

/** The one line a stream ends with when the manager collecting its logs stops leading. */
export function leaderChangedMessage(leaderAddr: string | undefined): string {
  const was = leaderAddr ? ` (was ${leaderAddr.split(':')[0]})` : '';
  return `log stream ended: the leader manager that collects the logs changed${was}; run the command again`;
}

/** What the leader reads logs from: the dispatcher, which collects only while leading. */
export interface LogSource {
  readonly running: boolean;
  subscribeLogs(opts: LogSubscribeOptions): LogStream;
}

type LogsCall = grpc.ServerWritableStream<ServiceLogsRequest, LogMessage>;

export interface ServiceLogsDeps {
  /** An ID, ID prefix or name → the service's ID; rejects with a StatusError (NOT_FOUND…). */
  resolveService(ref: string): Promise<string>;
  logs: LogSource;
  /** This manager's cluster address, for the message when it stops leading mid-stream. */
  selfAddr: string;
  /** The leader as this manager's Raft knows it; id '' when there is none. */
  leader(): { id: string; address: string | undefined };
  /** Calls `listener` on every leadership change this manager sees; returns the unsubscribe. */
  onLeaderChange(listener: (leaderId: string) => void): () => void;
  /** A ManagerLogs client to the leader: mutual TLS, expecting that manager's certificate. */
  dialLeader(address: string, nodeId: string): ManagerLogsClient;
  /** Checks a cluster-port caller (a manager certificate of this cluster); throws a StatusError. */
  authorize(call: LogsCall): void;
  logger: Logger;
}

export interface ServiceLogsHandlers {
  /** Control.ServiceLogs on the local socket: any manager. */
  local: grpc.handleServerStreamingCall<ServiceLogsRequest, LogMessage>;
  /** ManagerLogs on the cluster port: answered by the leader only, for other managers. */
  cluster: ManagerLogsServer;
}

export function serviceLogsHandlers(d: ServiceLogsDeps): ServiceLogsHandlers {
  return {
    local: (call) => serve(call, async () => {
      const serviceId = await d.resolveService(call.request.serviceId);
      if (d.logs.running) await relayLocal(d, call, serviceId);
      else await forwardToLeader(d, call, serviceId);
    }),
    cluster: {
      serviceLogs: (call) => serve(call, async () => {
        d.authorize(call);
        if (!d.logs.running) throw new StatusError(grpc.status.FAILED_PRECONDITION, 'this manager is not the leader; ask the leader for logs');
        // Headers at once: the forwarding manager then knows it reached us, even before a line.
        call.sendMetadata(new grpc.Metadata());
        await relayLocal(d, call, call.request.serviceId);
      }),
    },
  };
}

/** Runs one call's work; any failure ends the call with one status line. */
function serve(call: LogsCall, work: () => Promise<void>): void {
  work().then(
    () => call.end(),
    (e: { code?: number; details?: string; message: string }) => {
      // grpc-js: an 'error' on a server stream becomes its status (code + details) and ends it.
      const details = e.details ?? e.message;
      call.emit('error', Object.assign(new Error(details), { code: e.code ?? grpc.status.INTERNAL, details }));
    },
  );
}

/** This manager leads: stream from its dispatcher. */
async function relayLocal(d: ServiceLogsDeps, call: LogsCall, serviceId: string): Promise<void> {
  const stream = d.logs.subscribeLogs({ serviceId, follow: call.request.follow, tail: Number(call.request.tail) });
  call.on('cancelled', () => stream.close());
  try {
    for await (const msg of stream) {
      if (call.cancelled) break;
      call.write(msg);
    }
  } catch (e) {
    // The dispatcher ends its streams with UNAVAILABLE when this manager stops leading.
    if ((e as StatusError).code === grpc.status.UNAVAILABLE) throw new StatusError(grpc.status.ABORTED, leaderChangedMessage(d.selfAddr));
    throw e;
  }
  // A reader waiting for the next line sees a stopped dispatcher's stream simply end: that
  // is no end of the logs, and must not look like one.
  if (!call.cancelled && !d.logs.running) throw new StatusError(grpc.status.ABORTED, leaderChangedMessage(d.selfAddr));
}

/**
 * Another manager leads: ask it on the cluster port and relay its answer. Ends when the
 * leader's stream ends, the client cancels (the upstream call is cancelled too), or the
 * leadership changes.
 */
function forwardToLeader(d: ServiceLogsDeps, call: LogsCall, serviceId: string): Promise<void> {
  const leader = d.leader();
  if (!leader.id || !leader.address) return Promise.reject(new StatusError(grpc.status.FAILED_PRECONDITION, NO_LEADER_MESSAGE));
  const leaderAddr = leader.address;
  const client = d.dialLeader(leaderAddr, leader.id);
  return new Promise<void>((resolve, reject) => {
    const upstream = client.serviceLogs({ ...call.request, serviceId });
    let received = false;
    let done = false;
    const finish = (err?: StatusError) => {
      if (done) return;
      done = true;
      stopWatching();
      upstream.cancel();
      client.close();
      if (err) reject(err);
      else resolve();
    };
    const stopWatching = d.onLeaderChange((id) => {
      if (id !== leader.id) finish(new StatusError(grpc.status.ABORTED, leaderChangedMessage(leaderAddr)));
    });
    call.on('cancelled', () => finish());
    upstream.on('data', (m: LogMessage) => {
      received = true;
      if (!call.cancelled) call.write(m);
    });
    upstream.on('metadata', () => (received = true));
    // 'error' comes before 'end' on a failed call; 'end' after the last line of a good one.
    upstream.on('end', () => finish());
    upstream.on('error', (e: grpc.ServiceError) => {
      if (done) return;
      d.logger.debug('forwarded service logs ended with an error', { leader: leaderAddr, code: grpc.status[e.code], details: e.details });
      finish(upstreamError(e, leaderAddr, received));
    });
  });
}

/** The leader's failure as one line for the user (never grpc-js's multi-part text). */
function upstreamError(e: grpc.ServiceError, leaderAddr: string, received: boolean): StatusError {
  switch (e.code) {
    case grpc.status.UNAVAILABLE:
    case grpc.status.DEADLINE_EXCEEDED:
      return received
        ? new StatusError(grpc.status.ABORTED, leaderChangedMessage(leaderAddr))
        : new StatusError(grpc.status.ABORTED, `cannot reach the leader manager (${leaderAddr.split(':')[0]}) that collects the logs; retry, or run the command on the leader`);
    case grpc.status.FAILED_PRECONDITION: // it no longer leads
    case grpc.status.ABORTED: // it stopped leading mid-stream
      return new StatusError(grpc.status.ABORTED, leaderChangedMessage(leaderAddr));
    default:
      return new StatusError(e.code, e.details || e.message);
  }
}
