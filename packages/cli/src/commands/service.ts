import { Command, Option } from 'commander';
import { Service } from '@tswarm/api';
import { call } from '../client.js';
import { checkFormat, Context } from '../context.js';
import { CliError, usageError } from '../errors.js';
import { prettyService } from '../render/pretty.js';
import { renderServiceList } from '../render/services.js';
import { serviceCreateCommand } from './service-create.js';
import { serviceLogsCommand } from './service-logs.js';
import { servicePsCommand } from './service-ps.js';
import { serviceRollbackCommand, serviceScaleCommand, serviceUpdateCommand } from './service-update.js';

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
  return new Command('ls')
    .alias('list')
    .description('List services')
    .addOption(new Option('--format <string>', 'Format output: "json" or "table"'))
    .option('-q, --quiet', 'Only display IDs')
    .action(async (o: { format?: string; quiet?: boolean }) => {
      const format = checkFormat(o.format);
      const c = ctx();
      const clients = c.clients();
      const res = await call(clients, clients.control.listServices, clients.control, {});
      const lines = renderServiceList(res.services, res.counts, { quiet: Boolean(o.quiet), format });
      if (lines.length) c.out(lines.join('\n') + '\n');
    });
}

/** Docker's inspect JSON indentation. */
const INSPECT_INDENT = 4;

function serviceInspectCommand(ctx: Ctx): Command {
  return new Command('inspect')
    .description('Display detailed information on one or more services')
    .usage('[OPTIONS] SERVICE [SERVICE...]')
    .argument('<SERVICE...>')
    .addOption(new Option('-f, --format <string>', 'Format output: "json"'))
    .option('--pretty', 'Print the information in a human friendly format')
    .action(async (refs: string[], o: { format?: string; pretty?: boolean }) => {
      if (o.pretty && o.format) throw usageError('--format is incompatible with --pretty');
      checkFormat(o.format);
      const c = ctx();
      const clients = c.clients();
      const found: Service[] = [];
      for (const ref of refs) {
        const { service } = await call(clients, clients.control.getService, clients.control, { serviceId: ref });
        if (!service) throw new CliError(`no such service: ${ref}`);
        found.push(service);
      }
      if (o.pretty) c.out(found.map((s) => prettyService(s).join('\n') + '\n').join('\n\n'));
      // The wire objects in protobuf's canonical JSON mapping (camelCase, enum names).
      else c.out(JSON.stringify(found.map((s) => Service.toJSON(s)), null, INSPECT_INDENT) + '\n');
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
