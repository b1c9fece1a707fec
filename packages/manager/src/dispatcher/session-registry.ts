// Which session each node holds. One session per node: a newer one replaces the older,
// whose stream is ended, so an agent that reconnected (new TCP connection, possibly after
// a network partition healed) never has two live streams whose messages interleave.
//
// Owned by the Dispatcher: only its methods call into the registry, and every change here
// is synchronous, so no two async paths ever see the map half-changed (STYLE 4).
import * as grpc from '@grpc/grpc-js';
import type { SessionMessage } from '@tswarm/api';
import { StatusError } from '@tswarm/ca';

/** The Session stream as the registry sees it; the gRPC adapter implements it. */
export interface SessionSink {
  send(msg: SessionMessage): void;
  /** Ends the stream with this status. Called at most once. */
  end(err: StatusError): void;
}

/** Something that lives only as long as its session (the Assignments stream). */
export interface SessionBound {
  close(err: StatusError): void;
}

export class Session {
  /** Set once the node's READY write committed and the first SessionMessage went out. */
  established = false;
  /** Fingerprint of the last SessionMessage sent, so unchanged content is not re-sent. */
  lastSentKey = '';
  /** Invariant: empty once `ended`. */
  readonly bound = new Set<SessionBound>();
  ended = false;

  constructor(readonly id: string, readonly nodeId: string, readonly sink: SessionSink, readonly openedAtMs: number) {}
}

export class SessionRegistry {
  /** nodeId → its current session. Invariant: no ended session is in here. */
  private readonly byNode = new Map<string, Session>();

  get size(): number {
    return this.byNode.size;
  }

  /** Registers a new session for `nodeId`, ending the one it replaces. */
  open(nodeId: string, sessionId: string, sink: SessionSink, nowMs: number): Session {
    const old = this.byNode.get(nodeId);
    const session = new Session(sessionId, nodeId, sink, nowMs);
    this.byNode.set(nodeId, session);
    if (old) {
      this.finish(old, new StatusError(grpc.status.ABORTED, `session ${old.id} replaced by a newer session of node ${nodeId}`));
    }
    return session;
  }

  current(nodeId: string): Session | undefined {
    return this.byNode.get(nodeId);
  }

  /**
   * The node's session if `sessionId` is it. NOT_FOUND otherwise: the agent's session
   * expired, was replaced or belonged to another leader — it must open a new Session.
   */
  require(nodeId: string, sessionId: string): Session {
    const s = this.byNode.get(nodeId);
    if (!s || s.id !== sessionId) {
      throw new StatusError(
        grpc.status.NOT_FOUND,
        `session ${sessionId || '(none)'} is not the current session of node ${nodeId}; open a new session`,
      );
    }
    return s;
  }

  /**
   * Ends `session` if it is still current: its stream gets `err` (none when the client
   * already went away) and everything bound to it is closed with `err`.
   */
  end(session: Session, err: StatusError | null): void {
    if (this.byNode.get(session.nodeId) === session) this.byNode.delete(session.nodeId);
    this.finish(session, err);
  }

  endAll(err: StatusError): void {
    for (const s of [...this.byNode.values()]) this.end(s, err);
  }

  values(): IterableIterator<Session> {
    return this.byNode.values();
  }

  private finish(session: Session, err: StatusError | null): void {
    if (session.ended) return;
    session.ended = true;
    const boundErr = err ?? new StatusError(grpc.status.CANCELLED, `session ${session.id} of node ${session.nodeId} ended`);
    for (const b of [...session.bound]) b.close(boundErr);
    session.bound.clear();
    if (err) session.sink.end(err);
  }
}
