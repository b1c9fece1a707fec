import Docker from 'dockerode';
import { EngineInfo } from '@tswarm/api';

/** Opens a dockerode client for --docker-host (unix:///path or tcp://host:port). */
export function connectEngine(dockerHost: string): Docker {
  if (dockerHost.startsWith('unix://')) return new Docker({ socketPath: dockerHost.slice('unix://'.length) });
  const m = /^tcp:\/\/([^:]+):(\d+)$/.exec(dockerHost);
  if (m) return new Docker({ host: m[1], port: Number(m[2]) });
  throw new Error(`invalid --docker-host "${dockerHost}": expected unix:///path or tcp://HOST:PORT`);
}

/** What the engine says about itself; never throws — an unreachable engine is reported in `error`. */
export async function engineInfo(docker: Docker): Promise<EngineInfo> {
  try {
    const info = await docker.info();
    return { serverVersion: String(info.ServerVersion ?? ''), containers: Number(info.Containers ?? 0), images: Number(info.Images ?? 0), error: '' };
  } catch (e) {
    return { serverVersion: '', containers: 0, images: 0, error: `cannot reach the Docker Engine: ${(e as Error).message}` };
  }
}
