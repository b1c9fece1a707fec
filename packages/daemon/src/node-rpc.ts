// Small helpers for swarm-node.ts: addresses, waiting, and one-shot calls to other nodes.
import * as grpc from '@grpc/grpc-js';

/** A user-facing failure of init/join/leave: gRPC code + one line. */
export class SwarmError extends Error {
  constructor(readonly code: grpc.status, message: string) {
    super(message);
  }
}

export function withPort(addr: string, port: number): string {
  return /:\d+$/.test(addr) ? addr : `${addr}:${port}`;
}

export async function waitFor(cond: () => boolean, timeoutMs: number, message: string): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new SwarmError(grpc.status.DEADLINE_EXCEEDED, message);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** One unary call to another node with a deadline; failures become one-line SwarmErrors. */
export function unary<T>(client: grpc.Client, method: string, req: object, target: string, timeoutMs = 20_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const fn = (client as unknown as Record<string, Function>)[method]!;
    fn.call(client, req, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (err: grpc.ServiceError | null, res: T) => {
      client.close();
      if (!err) return resolve(res);
      if (err.code === grpc.status.UNAVAILABLE || err.code === grpc.status.DEADLINE_EXCEEDED) {
        reject(new SwarmError(grpc.status.UNAVAILABLE, `cannot reach a manager at ${target}: ${err.details || err.message}; check the address and that port ${target.split(':').pop()} is open`));
      } else {
        reject(new SwarmError(err.code, err.details || err.message));
      }
    });
  });
}

