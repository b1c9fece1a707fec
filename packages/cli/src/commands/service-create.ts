import { Command } from 'commander';
import { call } from '../client.js';
import { Context } from '../context.js';
import { CliError } from '../errors.js';
import { addCreateFlags, given, ServiceFlags } from '../flags/service-options.js';
import { waitForConvergence } from './converge.js';
import { createSpec } from './service-spec.js';

type Ctx = () => Context;

/** `tswarm service create [OPTIONS] IMAGE [COMMAND] [ARG...]` */
export function serviceCreateCommand(ctx: Ctx): Command {
  const cmd = new Command('create')
    .description('Create a new service')
    .usage('[OPTIONS] IMAGE [COMMAND] [ARG...]')
    .argument('<IMAGE>')
    .argument('[COMMAND...]')
    // Like Docker (SetInterspersed(false)): flags after IMAGE belong to the container's command.
    .passThroughOptions();
  addCreateFlags(cmd);
  return cmd.action(async (image: string, args: string[], f: ServiceFlags) => {
    const spec = createSpec(image, args, f, (k) => given(cmd, k));
    const c = ctx();
    const clients = c.clients();
    const { service } = await call(clients, clients.control.createService, clients.control, { spec });
    if (!service) throw new CliError('the daemon answered without the created service');
    c.out(`${service.id}\n`);
    if (!f.detach) await waitForConvergence(c, service.id, Boolean(f.quiet));
  });
}
