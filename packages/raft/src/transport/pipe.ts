import type * as grpc from '@grpc/grpc-js';
import { RaftService } from '@tswarm/api';

/** The dialing member names itself in this request header, so the server knows whose Pipe it holds. */
export const PIPE_SENDER_HEADER = 'tswarm-raft-member';

export const PIPE_METHOD = RaftService.pipe.path;

/** Pipe's (de)serializer on both ends: batches travel as the bytes the transport encodes. */
export const passthrough = (b: Buffer): Buffer => b;

/**
 * The Raft service as the transport serves it: the generated definition, except that Pipe
 * hands its messages over as bytes in both directions. The transport encodes each batch
 * once and decodes it itself; the generated serializer would copy every batch once more.
 * Register it with `server.addService(RAFT_SERVICE, transport.service())`.
 */
export const RAFT_SERVICE: grpc.ServiceDefinition = {
  ...RaftService,
  pipe: {
    ...RaftService.pipe,
    requestSerialize: passthrough,
    requestDeserialize: passthrough,
    responseSerialize: passthrough,
    responseDeserialize: passthrough,
  },
};
