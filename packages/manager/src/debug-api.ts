import * as grpc from '@grpc/grpc-js';
import { DebugKV, DebugServer, KVGetResponse } from '@tswarm/api';
import { AlreadyExistsError, defineTable, ReadTx, Store, VersionConflictError } from '@tswarm/store';
import type { RaftNode } from '@tswarm/raft';
import { protoCodec } from './tables.js';

/** The test-only table behind the Debug service (tswarmd --debug-api). */
export const debugKVTable = defineTable<DebugKV>('debug-kv', protoCodec(DebugKV));

/** A put whose read raced another writer is retried this many times before failing. */
const PUT_ATTEMPTS = 5;

/** Serves the Debug gRPC service from a manager's store and Raft node. */
export function debugApi(store: Store, node: RaftNode): DebugServer {
  const fail = (cb: grpc.sendUnaryData<never>, e: unknown) =>
    cb({ code: grpc.status.UNAVAILABLE, details: (e as Error).message } as grpc.ServiceError);
  return {
    put: (call, cb) => {
      void put(store, call.request.key, call.request.value).then(
        (version) => cb(null, { version }),
        (e) => fail(cb, e),
      );
    },
    get: (call, cb) => {
      const read = (tx: ReadTx): KVGetResponse => {
        const row = tx.get(debugKVTable, call.request.key);
        return row ? { found: true, value: Buffer.from(row.object.value), version: row.version } : { found: false, value: Buffer.alloc(0), version: 0 };
      };
      if (!call.request.linearizable) return cb(null, store.view(read));
      void store.linearizableView(read).then((r) => cb(null, r), (e) => fail(cb, e));
    },
    raftStatus: (_call, cb) => {
      const s = node.status();
      cb(null, { ...s, members: s.members });
    },
    transferLeadership: (call, cb) => {
      node.transferLeadership(call.request.to);
      cb(null, {});
    },
  };
}

/** Create-or-update under optimistic concurrency; a stale local read is retried. */
async function put(store: Store, key: string, value: Uint8Array): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      const r = await store.update((tx) => {
        const row = tx.get(debugKVTable, key);
        if (row) tx.update(debugKVTable, { id: key, value }, row.version);
        else tx.create(debugKVTable, { id: key, value });
      });
      return r.version;
    } catch (e) {
      if (attempt >= PUT_ATTEMPTS || !(e instanceof VersionConflictError || e instanceof AlreadyExistsError)) throw e;
      await store.linearizableView(() => undefined);
    }
  }
}
