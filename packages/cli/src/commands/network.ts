import { Command, Option } from 'commander';
import type { NetworkSpec } from '@tswarm/api';
import { call } from '../client.js';
import { Context } from '../context.js';
import { CliError, usageError } from '../errors.js';
import { parseCidr, parseIPv4Addr } from '../flags/addresses.js';
import { BadValue, flagParser, parseKeyValue, repeatable } from '../flags/parse.js';
import { inspectNetwork, renderNetworkList } from '../render/networks.js';
import { inspectCommand } from './inspect.js';
import { listCommand } from './list.js';

type Ctx = () => Context;

/**
 * Checked here as well as by the manager so a typo fails at once with exit 125 and
 * nothing sent; the manager stays the authority (other clients call it directly).
 */
const DRIVERS = ['overlay'] as const;
const DRIVER_OPTS = ['encrypted'] as const;

function parseDriver(v: string): string {
  if (!(DRIVERS as readonly string[]).includes(v)) throw new BadValue('only "overlay" is supported: tswarm networks span the swarm');
  return v;
}

function parseDriverOpt(v: string): [string, string] {
  const kv = parseKeyValue(v);
  if (!(DRIVER_OPTS as readonly string[]).includes(kv[0])) throw new BadValue(`unknown option "${kv[0]}": the overlay driver knows only "encrypted"`);
  return kv;
}

/** `tswarm network …`, Docker's "Manage networks" for swarm-scoped overlays. */
export function networkCommand(ctx: Ctx): Command {
  return new Command('network')
    .description('Manage networks')
    .addCommand(networkCreateCommand(ctx))
    .addCommand(networkInspectCommand(ctx))
    .addCommand(networkListCommand(ctx))
    .addCommand(networkRemoveCommand(ctx));
}

interface CreateFlags {
  driver: string;
  subnet?: string;
  gateway?: string;
  ipRange?: string;
  attachable?: boolean;
  label: Array<[string, string]>;
  opt: Array<[string, string]>;
}

/** The request `network create` sends for these flags; throws a usage error for combinations the flags alone cannot express. */
export function networkSpecFromFlags(name: string, o: CreateFlags): NetworkSpec {
  if ((o.gateway || o.ipRange) && !o.subnet) throw usageError('--gateway and --ip-range need --subnet: they must lie inside the network\'s subnet');
  return {
    name,
    driver: o.driver,
    labels: Object.fromEntries(o.label),
    driverOpts: Object.fromEntries(o.opt),
    ipam: o.subnet ? { subnet: o.subnet, gateway: o.gateway ?? '', ipRange: o.ipRange ?? '' } : undefined,
    attachable: Boolean(o.attachable),
    ingress: false,
    internal: false,
  };
}

function networkCreateCommand(ctx: Ctx): Command {
  return new Command('create')
    .description('Create a network')
    .usage('[OPTIONS] NETWORK')
    .argument('<NETWORK>')
    .option('--attachable', 'Enable manual container attachment')
    .addOption(new Option('-d, --driver <string>', 'Driver to manage the Network').argParser(flagParser('--driver', parseDriver)).default('overlay'))
    .option('--gateway <string>', 'IPv4 Gateway for the master subnet', flagParser('--gateway', parseIPv4Addr))
    .option('--ip-range <string>', 'Allocate container ip from a sub-range', flagParser('--ip-range', parseCidr))
    .option('--label <list>', 'Set metadata on a network', repeatable('--label', parseKeyValue), [])
    .option('-o, --opt <map>', 'Set driver specific options ("encrypted")', repeatable('--opt', parseDriverOpt), [])
    .option('--subnet <string>', 'Subnet in CIDR format that represents a network segment', flagParser('--subnet', parseCidr))
    .action(async (name: string, o: CreateFlags) => {
      const spec = networkSpecFromFlags(name, o);
      const c = ctx();
      const clients = c.clients();
      const { network } = await call(clients, clients.control.createNetwork, clients.control, { spec });
      c.out(`${network?.id ?? ''}\n`);
    });
}

function networkListCommand(ctx: Ctx): Command {
  return listCommand(ctx, {
    description: 'List networks',
    quietHelp: 'Only display network IDs',
    noTrunc: true,
    lines: async (clients, o) => {
      const { networks } = await call(clients, clients.control.listNetworks, clients.control, {});
      return renderNetworkList(networks, o);
    },
  });
}

function networkInspectCommand(ctx: Ctx): Command {
  return inspectCommand(ctx, {
    plural: 'networks',
    argName: 'NETWORK',
    fetch: async (clients, networkId) => {
      const res = await call(clients, clients.control.getNetwork, clients.control, { networkId });
      if (!res.network) throw new CliError(`no such network: ${networkId}`);
      return res;
    },
    json: (res) => inspectNetwork(res.network!, res.endpoints, res.peers),
  });
}

function networkRemoveCommand(ctx: Ctx): Command {
  return new Command('rm')
    .alias('remove')
    .description('Remove one or more networks')
    .usage('NETWORK [NETWORK...]')
    .argument('<NETWORK...>')
    .action(async (refs: string[]) => {
      const c = ctx();
      const clients = c.clients();
      // Like Docker: try every network, print the ones removed, then fail listing the rest.
      const errors: string[] = [];
      for (const networkId of refs) {
        try {
          await call(clients, clients.control.removeNetwork, clients.control, { networkId });
          c.out(`${networkId}\n`);
        } catch (e) {
          errors.push((e as Error).message);
        }
      }
      if (errors.length) throw new CliError(errors.join('\n'));
    });
}
