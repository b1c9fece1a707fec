import { Command } from 'commander';
import { call } from '../client.js';
import { Context } from '../context.js';
import { CliError } from '../errors.js';
import { prettyService } from '../render/pretty.js';
import { inspectService } from '../render/service-inspect.js';
import { renderServiceList } from '../render/services.js';
import { serviceCreateCommand } from './service-create.js';
import { serviceLogsCommand } from './service-logs.js';
import { servicePsCommand } from './service-ps.js';
import { serviceRollbackCommand, serviceScaleCommand, serviceUpdateCommand } from './service-update.js';
import { inspectCommand } from './inspect.js';
import { listCommand } from './list.js';

type Ctx = () => Context;

/** `tswarm service …`, Docker's "Manage Swarm services". */
export function serviceCommand(ctx: Ctx): Command {
  return new Command('service')
    .description('Manage Swarm services')
    // Lets `create` keep flags after IMAGE for the container (commander's passThroughOptions).
    .enablePositionalOptions()
    .addCommand(serviceCreateCommand(ctx))
    .addCommand(serviceInspectCommand(ctx))
    .addCommand(serviceLogsCommand(ctx))
    .addCommand(serviceListCommand(ctx))
    .addCommand(servicePsCommand(ctx))
    .addCommand(serviceRemoveCommand(ctx))
    .addCommand(serviceRollbackCommand(ctx))
    .addCommand(serviceScaleCommand(ctx))
    .addCommand(serviceUpdateCommand(ctx));
}

function serviceListCommand(ctx: Ctx): Command {
  return listCommand(ctx, {
    description: 'List services',
    lines: async (clients, o) => {
      const res = await call(clients, clients.control.listServices, clients.control, {});
      return renderServiceList(res.services, res.counts, o);
    },
  });
}

function serviceInspectCommand(ctx: Ctx): Command {
  return inspectCommand(ctx, {
    plural: 'services',
    argName: 'SERVICE',
    fetch: async (clients, ref) => {
      const { service } = await call(clients, clients.control.getService, clients.control, { serviceId: ref });
      if (!service) throw new CliError(`no such service: ${ref}`);
      return service;
    },
    // Docker's shape, so `docker service inspect` scripts keep working (render/service-inspect.ts).
    json: inspectService,
    pretty: prettyService,
  });
}

/** `service rm a b c`: each removed name is printed; failures are collected and reported at the end. */
function serviceRemoveCommand(ctx: Ctx): Command {
  return new Command('rm')
    .alias('remove')
    .description('Remove one or more services')
    .usage('SERVICE [SERVICE...]')
    .argument('<SERVICE...>')
    .action(async (refs: string[]) => {
      const c = ctx();
      const clients = c.clients();
      const errors: string[] = [];
      for (const ref of refs) {
        try {
          await call(clients, clients.control.removeService, clients.control, { serviceId: ref });
          c.out(`${ref}\n`);
        } catch (e) {
          errors.push((e as Error).message);
        }
      }
      if (errors.length) throw new CliError(errors.join('\n'));
    });
}
