import { Command, Option } from 'commander';
import { DEFAULT_HOST, HostAddress, LogLevel, LOG_LEVELS, isLogLevel, parseHost, TSWARM_VERSION } from '@tswarm/api';

/** Everything tswarmd is told at start-up. Fixed for the life of the process. */
export interface DaemonConfig {
  dataDir: string;
  host: HostAddress;
  /** Where the Docker Engine answers, e.g. unix:///var/run/docker.sock. */
  dockerHost: string;
  logLevel: LogLevel;
  /** The name this node reports as its hostname; defaults to os.hostname(). Lab hosts share one. */
  nodeName: string;
  /** Test-only static Raft group (until init/join exist): set when --raft-id is given. */
  raft?: StaticRaftConfig;
  /** Serve the test-only Debug service (KV over the replicated store) on the local socket. */
  debugApi: boolean;
}

/** A manager that joins a fixed Raft group named on the command line (tests and benchmarks). */
export interface StaticRaftConfig {
  id: string;
  listenAddr: string;
  advertiseAddr: string;
  bootstrap: Record<string, string>;
  tickMs: number;
  electionTicks: number;
  /** Entries between snapshots; undefined keeps the node loop's default. */
  snapshotInterval?: number;
}

export const DEFAULT_DATA_DIR = '/var/lib/tswarm';
export const DEFAULT_DOCKER_HOST = 'unix:///var/run/docker.sock';

/** Thrown for bad flags; main() prints the message on one line and exits 125 like dockerd. */
export class ConfigError extends Error {}

export function parseDaemonArgs(argv: string[], defaultNodeName: string): DaemonConfig {
  const program = new Command('tswarmd')
    .description('A self-sufficient orchestrator for containers: the tswarm node daemon')
    .version(TSWARM_VERSION, '-v, --version', 'Print version information and quit')
    .option('--data-dir <string>', 'Root directory of persistent tswarm state', DEFAULT_DATA_DIR)
    .option('-H, --host <string>', 'Daemon socket to listen on', process.env['TSWARM_HOST'] ?? DEFAULT_HOST)
    .option('--docker-host <string>', 'Docker Engine socket to run containers with', process.env['DOCKER_HOST'] ?? DEFAULT_DOCKER_HOST)
    .addOption(new Option('-l, --log-level <string>', `Set the logging level (${LOG_LEVELS.join(', ')})`).default('info'))
    .option('--node-name <string>', 'Name this node reports as its hostname', defaultNodeName)
    .addOption(new Option('--raft-id <string>', 'Test only: this manager\'s id in a static raft group').hideHelp())
    .addOption(new Option('--listen-addr <string>', 'Test only: cluster port listen address').default('0.0.0.0:2377').hideHelp())
    .addOption(new Option('--advertise-addr <string>', 'Test only: cluster port address others dial').hideHelp())
    .addOption(new Option('--raft-bootstrap <string>', 'Test only: id=host:port,... members of a new static group').hideHelp())
    .addOption(new Option('--raft-tick-ms <int>', 'Raft tick period').default('100').hideHelp())
    .addOption(new Option('--raft-election-ticks <int>', 'Ticks without a leader before an election').default('10').hideHelp())
    .addOption(new Option('--raft-snapshot-interval <int>', 'Applied entries between raft snapshots').hideHelp())
    .addOption(new Option('--debug-api', 'Test only: serve the Debug API on the local socket').hideHelp())
    .exitOverride()
    .configureOutput({ writeErr: () => {} });
  try {
    program.parse(argv, { from: 'user' });
  } catch (e) {
    const err = e as { code?: string; message: string };
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') throw e;
    throw new ConfigError(err.message.replace(/^error: /, ''));
  }
  const o = program.opts<{ dataDir: string; host: string; dockerHost: string; logLevel: string; nodeName: string } & RaftFlags>();
  if (!isLogLevel(o.logLevel)) throw new ConfigError(`invalid --log-level "${o.logLevel}": use one of ${LOG_LEVELS.join(', ')}`);
  let host: HostAddress;
  try {
    host = parseHost(o.host);
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  if (!o.dataDir.startsWith('/')) throw new ConfigError(`invalid --data-dir "${o.dataDir}": use an absolute path`);
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$/.test(o.nodeName)) throw new ConfigError(`invalid --node-name "${o.nodeName}": use letters, digits, dots and dashes`);
  return { dataDir: o.dataDir, host, dockerHost: o.dockerHost, logLevel: o.logLevel, nodeName: o.nodeName, raft: parseRaftFlags(o), debugApi: Boolean(o.debugApi) };
}

interface RaftFlags {
  raftId?: string;
  listenAddr: string;
  advertiseAddr?: string;
  raftBootstrap?: string;
  raftTickMs: string;
  raftElectionTicks: string;
  raftSnapshotInterval?: string;
  debugApi?: boolean;
}

const HOST_PORT = /^[\w.-]+:\d{1,5}$/;

function parseRaftFlags(o: RaftFlags): StaticRaftConfig | undefined {
  if (!o.raftId) {
    if (o.raftBootstrap) throw new ConfigError('--raft-bootstrap needs --raft-id');
    return undefined;
  }
  if (!HOST_PORT.test(o.listenAddr)) throw new ConfigError(`invalid --listen-addr "${o.listenAddr}": expected IP:PORT`);
  const advertiseAddr = o.advertiseAddr ?? o.listenAddr;
  if (!HOST_PORT.test(advertiseAddr) || advertiseAddr.startsWith('0.0.0.0:')) throw new ConfigError(`invalid --advertise-addr "${advertiseAddr}": give the IP:PORT other managers dial`);
  const bootstrap: Record<string, string> = {};
  for (const part of (o.raftBootstrap ?? '').split(',').filter(Boolean)) {
    const [id, addr] = part.split('=');
    if (!id || !addr || !HOST_PORT.test(addr)) throw new ConfigError(`invalid --raft-bootstrap member "${part}": expected ID=HOST:PORT`);
    bootstrap[id] = addr;
  }
  if (Object.keys(bootstrap).length && !(o.raftId in bootstrap)) throw new ConfigError(`--raft-bootstrap must include this manager (${o.raftId})`);
  const tickMs = Number(o.raftTickMs);
  const electionTicks = Number(o.raftElectionTicks);
  if (!Number.isInteger(tickMs) || tickMs < 1) throw new ConfigError(`invalid --raft-tick-ms "${o.raftTickMs}"`);
  if (!Number.isInteger(electionTicks) || electionTicks < 2) throw new ConfigError(`invalid --raft-election-ticks "${o.raftElectionTicks}": at least 2`);
  const snapshotInterval = o.raftSnapshotInterval === undefined ? undefined : Number(o.raftSnapshotInterval);
  if (snapshotInterval !== undefined && (!Number.isInteger(snapshotInterval) || snapshotInterval < 10)) {
    throw new ConfigError(`invalid --raft-snapshot-interval "${o.raftSnapshotInterval}": at least 10`);
  }
  return { id: o.raftId, listenAddr: o.listenAddr, advertiseAddr, bootstrap, tickMs, electionTicks, snapshotInterval };
}
