// Turning dockerode's errors into what the agent and the user need: the HTTP status to branch
// on, Docker's own message (what `docker` would print), and whether the engine itself is away.
import { ExecutorError } from '@tswarm/agent';

interface DockerodeError {
  statusCode?: number;
  json?: { message?: string } | null;
  reason?: string;
  code?: string;
  message?: string;
}

/** The HTTP status of a Docker API error, or 0 when the request never got an answer. */
export function statusOf(err: unknown): number {
  return (err as DockerodeError | undefined)?.statusCode ?? 0;
}

/**
 * Docker's message for an error: the API's `message` ("No such image: nginx:latest"), not
 * dockerode's "(HTTP code 404) no such container - " wrapping.
 */
export function dockerMessage(err: unknown): string {
  const e = err as DockerodeError | undefined;
  const json = e?.json?.message;
  if (json) return json.trim();
  const m = e?.message ?? String(err);
  const dash = /^\(HTTP code \d+\)[^-]*- (.*)$/s.exec(m);
  return (dash ? dash[1]! : m).trim();
}

/**
 * Where dockerode's modem talks to the engine, for messages. docker-modem resolves its default
 * socket lazily (socketPath is then a function), which is /var/run/docker.sock unless the user
 * has a rootless ~/.docker/run/docker.sock.
 */
export function engineAddress(modem: { socketPath?: unknown; host?: unknown; port?: unknown }): string {
  if (typeof modem.socketPath === 'string') return modem.socketPath;
  if (typeof modem.host === 'string') return modem.port ? `${modem.host}:${String(modem.port)}` : modem.host;
  return "Docker's default socket (/var/run/docker.sock)";
}

/** Socket errors that mean the engine is not answering at all. */
const ENGINE_AWAY = new Set(['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT']);

/**
 * Wraps any dockerode error as an ExecutorError. An engine that is not reachable is
 * temporary (the agent retries the step); its message says what to check.
 */
export function toExecutorError(err: unknown, socketPath: string): ExecutorError {
  if (err instanceof ExecutorError) return err;
  const code = (err as DockerodeError | undefined)?.code;
  if (code && ENGINE_AWAY.has(code)) {
    return new ExecutorError(`cannot reach the Docker Engine at ${socketPath} (${code}); is dockerd running?`, true);
  }
  return new ExecutorError(dockerMessage(err));
}
