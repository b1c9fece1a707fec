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
