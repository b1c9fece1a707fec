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
    .exitOverride()
    .configureOutput({ writeErr: () => {} });
  try {
    program.parse(argv, { from: 'user' });
  } catch (e) {
    const err = e as { code?: string; message: string };
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') throw e;
    throw new ConfigError(err.message.replace(/^error: /, ''));
  }
  const o = program.opts<{ dataDir: string; host: string; dockerHost: string; logLevel: string; nodeName: string }>();
  if (!isLogLevel(o.logLevel)) throw new ConfigError(`invalid --log-level "${o.logLevel}": use one of ${LOG_LEVELS.join(', ')}`);
  let host: HostAddress;
  try {
    host = parseHost(o.host);
  } catch (e) {
    throw new ConfigError((e as Error).message);
  }
  if (!o.dataDir.startsWith('/')) throw new ConfigError(`invalid --data-dir "${o.dataDir}": use an absolute path`);
  if (!/^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$/.test(o.nodeName)) throw new ConfigError(`invalid --node-name "${o.nodeName}": use letters, digits, dots and dashes`);
  return { dataDir: o.dataDir, host, dockerHost: o.dockerHost, logLevel: o.logLevel, nodeName: o.nodeName };
}
