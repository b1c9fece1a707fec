import os from 'node:os';
import { mkdirSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import path from 'node:path';
import { ControlService, DaemonService, DebugService, GRPC_COMMON_OPTIONS, Logger, streamLogger, TSWARM_VERSION } from '@tswarm/api';
import { ControlApiHandlers, debugApi, debugKVTable, RaftGroup } from '@tswarm/manager';
import { agentStarter, describeNode, managerWiring } from './cluster-wiring.js';
import { localControlService } from './control-service.js';
import { SwarmNode } from './swarm-node.js';
import { ConfigError, DaemonConfig, parseDaemonArgs } from './config.js';
import { connectEngine, engineInfo } from './engine.js';
import { hostFacts } from './host-info.js';
import { localApi } from './local-api.js';
import { bindLocal } from './socket.js';
import { lockDataDir } from './data-dir-lock.js';
import { applyGcFlags } from './gc-flags.js';

/** A started daemon; `stop()` closes the socket and ends the process's work. */
export interface RunningDaemon {
  config: DaemonConfig;
  stop(): Promise<void>;
}

/** The composition root: builds every component of tswarmd from its config and starts them. */
export async function startDaemon(config: DaemonConfig, log: Logger): Promise<RunningDaemon> {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const unlock = lockDataDir(config.dataDir);
  const docker = connectEngine(config.dockerHost);
  const server = new grpc.Server(GRPC_COMMON_OPTIONS);
  let control: ControlApiHandlers | undefined;
  const swarm = new SwarmNode({
    dataDir: config.dataDir,
    nodeName: config.nodeName,
    describe: () => describeNode(docker, config.nodeName),
    addresses: () => hostFacts().addresses,
    startAgent: agentStarter(docker, config.nodeName, path.join(config.dataDir, 'container-etc')),
    wireManager: managerWiring(log.child('manager'), (c) => (control = c)),
    logger: log,
  });
  server.addService(ControlService, localControlService(swarm, () => (swarm.currentManager ? control : undefined)));
  server.addService(DaemonService, localApi({
    dataDir: config.dataDir,
    dockerHost: config.dockerHost,
    nodeName: config.nodeName,
    engineInfo: () => engineInfo(docker),
    hostFacts,
    swarmInfo: () => swarm.info(),
  }));
  let group: RaftGroup | undefined;
  if (config.raft) {
    group = await RaftGroup.start({
      ...config.raft,
      dataDir: path.join(config.dataDir, 'manager'),
      bootstrap: Object.keys(config.raft.bootstrap).length ? config.raft.bootstrap : undefined,
      tables: [debugKVTable],
      logger: log.child('manager'),
    });
  }
  if (config.debugApi) {
    if (!group) throw new Error('--debug-api needs a manager (--raft-id)');
    server.addService(DebugService, debugApi(group.store, group.node));
  }
  if (!config.raft) await swarm.resume();
  await bindLocal(server, config.host);
  log.info('tswarmd started', { version: TSWARM_VERSION, host: config.host.url, dataDir: config.dataDir, node: config.nodeName, pid: process.pid });
  return {
    config,
    stop: async () => {
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      await swarm.stopAll();
      await group?.stop();
      unlock();
    },
  };
}

/** Entry point of the tswarmd binary. */
export async function main(argv: string[]): Promise<void> {
  applyGcFlags();
  let config: DaemonConfig;
  try {
    config = parseDaemonArgs(argv, os.hostname());
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === 'commander.helpDisplayed' || code === 'commander.version') process.exit(0);
    process.stderr.write(`tswarmd: ${(e as Error).message}\n`);
    process.exit(e instanceof ConfigError ? 125 : 1);
  }
  const log = streamLogger(config.logLevel);
  let daemon: RunningDaemon;
  try {
    daemon = await startDaemon(config, log);
  } catch (e) {
    log.error((e as Error).message);
    if (config.logLevel === 'debug') log.debug(String((e as Error).stack));
    process.exit(1);
  }
  let stopping = false;
  const shutdown = (sig: string) => {
    if (stopping) return;
    stopping = true;
    log.info('shutting down', { signal: sig });
    void daemon.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}
