// The gRPC edge of the dispatcher: identifies the caller, turns grpc-js calls into
// Dispatcher method calls and errors into statuses. No dispatcher state lives here.
//
// Status codes an agent sees, and what it should do:
//   UNAVAILABLE        this manager does not run the dispatcher (not leader / stopping), or
//                      a write could not commit — reconnect to another manager, resend.
//   NOT_FOUND          the session id is not current (expired, replaced, other leader) —
//                      open a new Session.
//   ABORTED            this stream was replaced by a newer one of the same node, or the
//                      Assignments stream fell behind — reopen it (a complete set follows).
//   DEADLINE_EXCEEDED  (Session stream) heartbeats stopped; the node was marked DOWN.
//   PERMISSION_DENIED  the node was removed, or reported a task that is not its own.
//   UNAUTHENTICATED    no node certificate (from deps.identify).
import * as grpc from '@grpc/grpc-js';
import type { AssignmentsMessage, DispatcherServer, Logger, SessionMessage } from '@tswarm/api';
import { StatusError } from '@tswarm/ca';
import type { Dispatcher } from './dispatcher.js';

/** A grpc-js server-streaming call, as far as we use it. */
interface WritableCall<T> {
  cancelled: boolean;
  write(msg: T): boolean;
  emit(event: 'error', err: unknown): boolean;
  on(event: 'cancelled', fn: () => void): unknown;
  getPeer(): string;
}

export function dispatcherServer(d: Dispatcher, identify: (call: unknown) => string, logger: Logger): DispatcherServer {
  return {
    session: (call) => {
      const sink = streamSink<SessionMessage>(call);
      try {
        const session = d.openSession(identify(call), call.request, peerHost(call.getPeer()), sink);
        call.on('cancelled', () => d.sessionClosed(session));
      } catch (err) {
        sink.end(toStatus(err));
      }
    },

    heartbeat: (call, cb) => {
      try {
        cb(null, d.heartbeat(identify(call), call.request.sessionId));
      } catch (err) {
        cb(toServiceError(err));
      }
    },

    assignments: (call) => {
      const sink = streamSink<AssignmentsMessage>(call);
      try {
        const nodeId = identify(call);
        const stream = d.openAssignments(nodeId, call.request.sessionId, sink);
        call.on('cancelled', () => d.assignmentsClosed(nodeId, stream));
      } catch (err) {
        sink.end(toStatus(err));
      }
    },

    updateTaskStatus: (call, cb) => {
      let nodeId: string;
      try {
        nodeId = identify(call);
      } catch (err) {
        return cb(toServiceError(err));
      }
      d.updateTaskStatus(nodeId, call.request.sessionId, call.request.updates).then(
        () => cb(null, {}),
        (err) => cb(toServiceError(err)),
      );
    },

    publishLogs: (call, cb) => {
      let nodeId: string;
      try {
        nodeId = identify(call);
      } catch (err) {
        return cb(toServiceError(err)); // grpc-js ends the call with this status
      }
      let failed = false;
      call.on('data', (msg) => {
        if (failed) return;
        try {
          d.publishLogs(nodeId, msg);
        } catch (err) {
          failed = true;
          cb(toServiceError(err));
        }
      });
      call.on('end', () => {
        if (!failed) cb(null, {});
      });
      call.on('error', (err) => logger.debug('publishLogs stream error', { node: nodeId, err: err.message }));
    },
  };
}

/** Writes to a server stream; end() finishes it with a status, once. */
function streamSink<T>(call: WritableCall<T>): { send(msg: T): void; end(err: StatusError): void } {
  let ended = false;
  return {
    send: (msg) => {
      // TODO(backpressure): write() returning false is not waited on; messages are
      // batched and small, and a stuck agent is ended by its missed heartbeats.
      if (!ended && !call.cancelled) call.write(msg);
    },
    end: (err) => {
      if (ended) return;
      ended = true;
      // grpc-js server streams turn an 'error' event into the call's final status.
      if (!call.cancelled) call.emit('error', toServiceError(err));
    },
  };
}

/** Any error as a status the agent can act on; unknown failures read as UNAVAILABLE (retry). */
function toStatus(err: unknown): StatusError {
  if (err instanceof StatusError) return err;
  return new StatusError(grpc.status.UNAVAILABLE, `dispatcher: ${(err as Error)?.message ?? String(err)}`);
}

function toServiceError(err: unknown): Partial<grpc.ServiceError> {
  const s = toStatus(err);
  return { code: s.code, details: s.details, message: s.details, name: 'StatusError', ...(s.metadata ? { metadata: s.metadata } : {}) };
}

/**
 * The host part of a grpc-js peer string: "10.0.0.5:51234" → "10.0.0.5",
 * "[fd00::5]:51234" → "fd00::5"; anything else (a unix socket) as it is.
 */
export function peerHost(peer: string): string {
  const p = peer.replace(/^ipv[46]:/, '');
  const v6 = /^\[([^\]]+)\](?::\d+)?$/.exec(p);
  if (v6) return v6[1]!;
  const v4 = /^([^:]+):\d+$/.exec(p);
  return v4 ? v4[1]! : p;
}
