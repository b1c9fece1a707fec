// gRPC statuses for the control API, chosen as swarmkit's controlapi chooses them, with
// `details` = one line for the user (STYLE 11): what was wrong and, where there is one,
// what to do. Handlers throw StatusError; anything else thrown is mapped by toStatus().
import * as grpc from '@grpc/grpc-js';
import { StatusError } from '@tswarm/ca';
import { NotLeaderError, RaftTimeoutError, StoppedError } from '@tswarm/raft';
import {
  AlreadyExistsError,
  DuplicateKeyError,
  NotFoundError,
  ProposalDroppedError,
  StoreClosedError,
  StoreRestoredError,
  TransactionTooLargeError,
  VersionConflictError,
} from '@tswarm/store';

export { StatusError };

/** A bad request: the spec or an argument is wrong; retrying the same call cannot help. */
export const invalidArgument = (msg: string) => new StatusError(grpc.status.INVALID_ARGUMENT, msg);
export const notFound = (msg: string) => new StatusError(grpc.status.NOT_FOUND, msg);
export const alreadyExists = (msg: string) => new StatusError(grpc.status.ALREADY_EXISTS, msg);
/** The request is well-formed but the cluster is not in a state that allows it. */
export const failedPrecondition = (msg: string) => new StatusError(grpc.status.FAILED_PRECONDITION, msg);
/** An optimistic-concurrency check failed (gRPC's documented code for a sequencer conflict). */
export const aborted = (msg: string) => new StatusError(grpc.status.ABORTED, msg);
export const unimplemented = (msg: string) => new StatusError(grpc.status.UNIMPLEMENTED, msg);
export const resourceExhausted = (msg: string) => new StatusError(grpc.status.RESOURCE_EXHAUSTED, msg);

/** Swarm's wording for a stale version in an update, with the way out. */
export function outOfSequence(kind: string): StatusError {
  return aborted(`update out of sequence: the ${kind} was changed by someone else; retry`);
}

/** Table name → the word users know, for generic store errors. */
const KIND: Record<string, string> = { nodes: 'node', services: 'service', tasks: 'task', networks: 'network', cluster: 'cluster' };

/**
 * Any error from a handler → a StatusError. StatusErrors pass through. Store rejections
 * that a handler did not translate into something more specific get a generic but
 * truthful line; Raft/leadership trouble is UNAVAILABLE so clients know to retry.
 */
export function toStatus(err: unknown): StatusError {
  if (err instanceof StatusError) return err;
  if (err instanceof VersionConflictError) return outOfSequence(KIND[err.table] ?? err.table);
  if (err instanceof NotFoundError) return notFound(`${KIND[err.table] ?? err.table} ${err.id} not found`);
  if (err instanceof AlreadyExistsError) return alreadyExists(`${KIND[err.table] ?? err.table} ${err.id} already exists`);
  if (err instanceof DuplicateKeyError) {
    return alreadyExists(`${KIND[err.table] ?? err.table} name "${err.key}" is already in use`);
  }
  if (err instanceof TransactionTooLargeError) return resourceExhausted(err.message);
  if (
    err instanceof NotLeaderError ||
    err instanceof RaftTimeoutError ||
    err instanceof StoppedError ||
    err instanceof ProposalDroppedError ||
    err instanceof StoreRestoredError ||
    err instanceof StoreClosedError
  ) {
    return new StatusError(grpc.status.UNAVAILABLE, err.message);
  }
  const message = err instanceof Error ? err.message : String(err);
  return new StatusError(grpc.status.INTERNAL, `internal error: ${message}`);
}
