import net from 'node:net';
import { mkdirSync, unlinkSync, existsSync, chmodSync } from 'node:fs';
import { dirname } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { HostAddress, grpcTarget } from '@tswarm/api';

/** Owner and group may use the socket, like docker.sock (root:docker 0660). */
const SOCKET_MODE = 0o660;

/**
 * Binds the gRPC server on the local API address. A leftover unix socket from a crashed
 * daemon is removed; a socket another live tswarmd answers on is refused, not stolen.
 */
export async function bindLocal(server: grpc.Server, host: HostAddress): Promise<void> {
  if (host.kind === 'unix') {
    mkdirSync(dirname(host.path), { recursive: true });
    if (existsSync(host.path)) {
      if (await answers(host.path)) {
        throw new Error(`another tswarmd is already listening on ${host.url}; stop it first or choose another --host`);
      }
      unlinkSync(host.path);
    }
  }
  await new Promise<void>((resolve, reject) => {
    server.bindAsync(grpcTarget(host), grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(new Error(`cannot listen on ${host.url}: ${err.message}`)) : resolve()));
  });
  if (host.kind === 'unix') chmodSync(host.path, SOCKET_MODE);
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(path);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => resolve(false));
  });
}
