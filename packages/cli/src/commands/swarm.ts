import { parseDurationMs } from '../flags/duration.js';
import { Command, Option } from 'commander';
import { Cluster, NodeRole } from '@tswarm/api';
import { call } from '../client.js';
import { Context } from '../context.js';
import { CliError, usageError } from '../errors.js';
import { parseCidr } from '../flags/addresses.js';
import { BadValue, flagParser, parseNonEmpty, parsePort, parseUint, repeatable } from '../flags/parse.js';
import { parseAvailability } from './node.js';

type Ctx = () => Context;

/** The cluster port, 2377 as in Docker, added to a join address given without one. */
export const DEFAULT_CLUSTER_PORT = 2377;

/** `IP[:PORT]`, `[IPv6]:PORT` or an interface name (Docker's `<ip|interface>[:port]`). */
function parseNodeAddr(v: string): string {
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:\s[\]]+)(?::(\d+))?$/.exec(v);
  if (!m) throw new BadValue('expected <ip|interface>[:port], e.g. 192.168.1.10 or 192.168.1.10:2377');
  if (m[2] !== undefined) parsePort(m[2]);
  return v;
}

/** Docker: 1024–49151, or 0 for the default 4789. */
function parseDataPathPort(v: string): number {
  const n = parseUint(v);
  if (n !== 0 && (n < 1024 || n > 49151)) throw new BadValue('the data path port must be within 1024-49151 (0 for the default 4789)');
  return n;
}

function parseMaskLength(v: string): number {
  const n = parseUint(v);
  if (n < 1 || n > 32) throw new BadValue('expected a mask length between 1 and 32');
  return n;
}

export function swarmCommand(ctx: Ctx): Command {
  return new Command('swarm')
    .description('Manage Swarm')
    .addCommand(initCommand(ctx))
    .addCommand(inspectCommand(ctx))
    .addCommand(joinCommand(ctx))
    .addCommand(joinTokenCommand(ctx))
    .addCommand(leaveCommand(ctx));
}

/** `swarm init`; also mounted at the top level as `tswarm init`, the README's spelling. */
export function initCommand(ctx: Ctx): Command {
  return new Command('init')
    .description('Initialize a swarm')
    .option('--advertise-addr <string>', 'Advertised address (format: "<ip|interface>[:port]")', flagParser('--advertise-addr', parseNodeAddr))
    .addOption(new Option('--dispatcher-heartbeat <duration>', 'Dispatcher heartbeat period (ns|us|ms|s|m|h)').argParser(flagParser('--dispatcher-heartbeat', parseDurationMs)).default(5000, '5s'))
    .option('--data-path-port <uint32>', 'Port number to use for data path traffic (1024 - 49151). If no value is set or is set to 0, the default port (4789) is used.', flagParser('--data-path-port', parseDataPathPort))
    .option('--default-addr-pool <ipNetSlice>', 'default address pool in CIDR format', repeatable('--default-addr-pool', parseCidr), [])
    .addOption(new Option('--default-addr-pool-mask-length <uint32>', 'default address pool subnet mask length').argParser(flagParser('--default-addr-pool-mask-length', parseMaskLength)).default(24))
    .option('--force-new-cluster', 'Force create a new cluster from current state: on a manager of a swarm that lost its quorum, restart it as the only manager with every service, node and network kept (writes that only the lost managers had are lost)')
    .addOption(new Option('--listen-addr <node-addr>', 'Listen address (format: "<ip|interface>[:port]")').argParser(flagParser('--listen-addr', parseNodeAddr)).default('0.0.0.0:2377'))
    .action(async (o: { advertiseAddr?: string; dataPathPort?: number; defaultAddrPool: string[]; defaultAddrPoolMaskLength: number; forceNewCluster?: boolean; listenAddr: string; dispatcherHeartbeat: number }, cmd: Command) => {
      if (o.forceNewCluster) {
        // A forced new cluster restarts this manager from its own data: addresses and the
        // swarm's settings come from there, so a flag that would change them is refused.
        const given = FORCE_NEW_CLUSTER_CONFLICTS.filter((k) => cmd.getOptionValueSource(k) === 'cli');
        if (given.length > 0) {
          const flag = `--${given[0]!.replace(/[A-Z]/g, (ch) => `-${ch.toLowerCase()}`)}`;
          throw usageError(`--force-new-cluster keeps this manager's addresses and the swarm's settings; it cannot be combined with ${flag}`);
        }
      }
      const c = ctx();
      const clients = c.clients();
      const res = await call(clients, clients.control.init, clients.control, {
        advertiseAddr: o.advertiseAddr ?? '', listenAddr: o.listenAddr, defaultAddrPool: o.defaultAddrPool,
        subnetSize: o.defaultAddrPoolMaskLength, dataPathPort: o.dataPathPort ?? 0, forceNewCluster: Boolean(o.forceNewCluster),
        dispatcherHeartbeatMs: o.dispatcherHeartbeat,
      });
      c.out(`Swarm initialized: current node (${res.nodeId}) is now a manager.\n\n`);
      c.out(joinInstructions('worker', res.workerJoinToken, res.advertiseAddr));
      c.out("To add a manager to this swarm, run 'tswarm swarm join-token manager' and follow the instructions.\n");
    });
}

/** init flags that set what a forced new cluster takes from the manager's own data. */
const FORCE_NEW_CLUSTER_CONFLICTS = ['advertiseAddr', 'listenAddr', 'dataPathPort', 'defaultAddrPool', 'defaultAddrPoolMaskLength', 'dispatcherHeartbeat'];

function joinInstructions(role: 'worker' | 'manager', token: string, addr: string): string {
  return `To add a ${role} to this swarm, run the following command:\n\n    tswarm swarm join --token ${token} ${addr}\n\n`;
}

/** `swarm join`; also `tswarm join`. */
export function joinCommand(ctx: Ctx): Command {
  return new Command('join')
    .description('Join a swarm as a node and/or manager')
    .usage('[OPTIONS] HOST:PORT')
    .argument('<HOST:PORT>')
    .option('--advertise-addr <string>', 'Advertised address (format: "<ip|interface>[:port]")', flagParser('--advertise-addr', parseNodeAddr))
    .option('--availability <string>', 'Availability of the node ("active", "pause", "drain")', flagParser('--availability', parseAvailability))
    .addOption(new Option('--listen-addr <node-addr>', 'Listen address (format: "<ip|interface>[:port]")').argParser(flagParser('--listen-addr', parseNodeAddr)).default('0.0.0.0:2377'))
    .option('--token <string>', 'Token for entry into the swarm', flagParser('--token', parseNonEmpty))
    .action(async (remote: string, o: { advertiseAddr?: string; availability?: number; listenAddr: string; token?: string }) => {
      if (!o.token) throw usageError("--token is required; print it on a manager with 'tswarm swarm join-token worker'");
      let remoteAddr: string;
      try {
        remoteAddr = parseNodeAddr(remote);
      } catch {
        throw usageError(`invalid manager address "${remote}": expected HOST[:PORT], e.g. 192.168.1.10:2377`);
      }
      if (!/^(\[[^\]]+\]|[^:]+):\d+$/.test(remoteAddr)) remoteAddr = `${remoteAddr}:${DEFAULT_CLUSTER_PORT}`;
      const c = ctx();
      const clients = c.clients();
      const res = await call(clients, clients.control.join, clients.control, {
        remoteAddr, joinToken: o.token, advertiseAddr: o.advertiseAddr ?? '', listenAddr: o.listenAddr, availability: o.availability ?? 0,
      });
      c.out(`This node joined a swarm as a ${res.manager ? 'manager' : 'worker'}.\n`);
    });
}

function joinTokenCommand(ctx: Ctx): Command {
  return new Command('join-token')
    .description('Manage join tokens')
    .usage('[OPTIONS] (worker|manager)')
    .argument('<ROLE>')
    .option('-q, --quiet', 'Only display token')
    .option('--rotate', 'Rotate join token')
    .action(async (role: string, o: { quiet?: boolean; rotate?: boolean }) => {
      if (role !== 'worker' && role !== 'manager') throw usageError(`unknown role ${role}: use "worker" or "manager"`);
      const c = ctx();
      const clients = c.clients();
      const res = await call(clients, clients.control.getJoinToken, clients.control, {
        role: role === 'manager' ? NodeRole.NODE_ROLE_MANAGER : NodeRole.NODE_ROLE_WORKER, rotate: Boolean(o.rotate),
      });
      if (o.quiet) {
        c.out(`${res.token}\n`);
        return;
      }
      if (o.rotate) c.out(`Successfully rotated ${role} join token.\n\n`);
      c.out(joinInstructions(role, res.token, res.managerAddr));
    });
}

function leaveCommand(ctx: Ctx): Command {
  return new Command('leave')
    .description('Leave the swarm')
    .option('-f, --force', 'Force this node to leave the swarm, ignoring warnings')
    .action(async (o: { force?: boolean }) => {
      const c = ctx();
      const clients = c.clients();
      await call(clients, clients.control.leave, clients.control, { force: Boolean(o.force) });
      c.out('Node left the swarm.\n');
    });
}

/** Docker dropped `swarm inspect` for `docker info`; kept here as the JSON view of the cluster object. */
function inspectCommand(ctx: Ctx): Command {
  return new Command('inspect')
    .description('Display detailed information on the swarm')
    .action(async () => {
      const c = ctx();
      const clients = c.clients();
      const { cluster } = await call(clients, clients.control.inspectSwarm, clients.control, {});
      if (!cluster) throw new CliError('the daemon answered without the swarm');
      c.out(JSON.stringify([Cluster.toJSON(cluster)], null, 4) + '\n');
    });
}
