// The few Docker Engine API calls the benchmarks poll with, over the engine's unix socket.
// The CLI would cost a process start per poll; the API answers in a millisecond or two, as the
// gRPC control API does on the tswarm side.
import http from 'node:http';

/** API version of Debian's docker.io 20.10; every engine here speaks it. */
const API_VERSION = 'v1.41';
const REQUEST_TIMEOUT_MS = 10_000;

export class DockerApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

export class DockerApi {
  constructor(readonly socketPath: string) {}

  /** GET, parsed JSON; a DockerApiError with the engine's message on a non-2xx status. */
  get<T>(path: string, query: Record<string, unknown> = {}): Promise<T> {
    return this.request<T>('GET', path, query);
  }

  delete(path: string, query: Record<string, unknown> = {}): Promise<unknown> {
    return this.request('DELETE', path, query);
  }

  /** Containers (running or not) carrying `label` ("key=value"). */
  async containersWithLabel(label: string): Promise<Array<{ Id: string }>> {
    return this.get('/containers/json', { all: 1, filters: JSON.stringify({ label: [label] }) });
  }

  private request<T>(method: string, path: string, query: Record<string, unknown>): Promise<T> {
    const qs = new URLSearchParams(Object.entries(query).map(([k, v]): [string, string] => [k, String(v)])).toString();
    return new Promise<T>((resolve, reject) => {
      const req = http.request(
        { socketPath: this.socketPath, method, path: `/${API_VERSION}${path}${qs ? `?${qs}` : ''}`, timeout: REQUEST_TIMEOUT_MS },
        (res) => {
          let body = '';
          res.setEncoding('utf8').on('data', (d: string) => (body += d));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            let parsed: unknown = undefined;
            try {
              parsed = body ? JSON.parse(body) : undefined;
            } catch {
              parsed = body;
            }
            if (status >= 200 && status < 300) resolve(parsed as T);
            else {
              const msg = (parsed as { message?: string } | undefined)?.message ?? body.trim();
              reject(new DockerApiError(status, `${method} ${path}: ${status} ${msg}`));
            }
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer from ${this.socketPath} within ${REQUEST_TIMEOUT_MS / 1000} s`)));
      req.on('error', reject);
      req.end();
    });
  }
}
