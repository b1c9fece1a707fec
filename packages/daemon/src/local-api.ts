import * as grpc from '@grpc/grpc-js';
import { API_VERSION, DaemonServer, EngineInfo, InfoResponse, SwarmInfo, TSWARM_VERSION, VersionResponse } from '@tswarm/api';
import { HostFacts } from './host-info.js';

/** What the local API needs from the rest of the daemon; passed in by the composition root. */
export interface LocalApiDeps {
  dataDir: string;
  dockerHost: string;
  nodeName: string;
  engineInfo(): Promise<EngineInfo>;
  hostFacts(): HostFacts;
  swarmInfo(): SwarmInfo;
}

export function versionResponse(): VersionResponse {
  return { version: TSWARM_VERSION, apiVersion: API_VERSION, nodeVersion: process.version, os: process.platform, arch: process.arch, gitCommit: '' };
}

/** The Daemon service: questions about this tswarmd itself, answered on the local socket. */
export function localApi(deps: LocalApiDeps): DaemonServer {
  return {
    version: (_call, cb) => cb(null, versionResponse()),
    info: (_call, cb) => {
      void buildInfo(deps).then((r) => cb(null, r), (e: Error) => cb({ code: grpc.status.INTERNAL, details: e.message }));
    },
  };
}

async function buildInfo(deps: LocalApiDeps): Promise<InfoResponse> {
  const facts = deps.hostFacts();
  return {
    version: TSWARM_VERSION,
    hostname: deps.nodeName,
    dataDir: deps.dataDir,
    dockerHost: deps.dockerHost,
    engine: await deps.engineInfo(),
    swarm: deps.swarmInfo(),
    cpus: facts.cpus,
    memoryBytes: facts.memoryBytes,
    kernelVersion: facts.kernelVersion,
    operatingSystem: facts.operatingSystem,
    addresses: facts.addresses,
  };
}
