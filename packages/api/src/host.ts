/** Where the CLI finds the local daemon unless -H/--host or TSWARM_HOST says otherwise. */
export const DEFAULT_HOST = 'unix:///run/tswarm/tswarm.sock';

/** The environment variable that overrides DEFAULT_HOST, like DOCKER_HOST. */
export const HOST_ENV = 'TSWARM_HOST';

/** A parsed -H/--host value. Only unix sockets are served locally; TCP is for tests on loopback. */
export type HostAddress =
  | { kind: 'unix'; path: string; url: string }
  | { kind: 'tcp'; host: string; port: number; url: string };

/**
 * Parses `unix:///path`, `/path` or `tcp://host:port`.
 * Throws an Error whose message can be shown to the user as is.
 */
export function parseHost(value: string): HostAddress {
  const v = value.trim();
  if (v.startsWith('unix://')) {
    const path = v.slice('unix://'.length);
    if (!path.startsWith('/')) throw new Error(`invalid host "${value}": a unix socket path must be absolute (unix:///run/tswarm/tswarm.sock)`);
    return { kind: 'unix', path, url: `unix://${path}` };
  }
  if (v.startsWith('/')) return { kind: 'unix', path: v, url: `unix://${v}` };
  if (v.startsWith('tcp://')) {
    const m = /^tcp:\/\/([^:/]+|\[[^\]]+\]):(\d{1,5})\/?$/.exec(v);
    const port = m ? Number(m[2]) : NaN;
    if (!m || port < 1 || port > 65535) throw new Error(`invalid host "${value}": expected tcp://HOST:PORT`);
    return { kind: 'tcp', host: m[1]!, port, url: `tcp://${m[1]}:${port}` };
  }
  throw new Error(`invalid host "${value}": expected unix:///path/to/socket or tcp://HOST:PORT`);
}

/** The target string @grpc/grpc-js dials for a host address. */
export function grpcTarget(h: HostAddress): string {
  return h.kind === 'unix' ? `unix:${h.path}` : `${h.host}:${h.port}`;
}
