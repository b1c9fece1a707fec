import { Command } from 'commander';
import { call } from '../client.js';
import { Context } from '../context.js';
import { CliError, usageError } from '../errors.js';
import { BadValue, parseUint } from '../flags/parse.js';
import { addUpdateFlags, given, ServiceFlags } from '../flags/service-options.js';
import { waitForConvergence } from './converge.js';
import { checkRollbackAlone, updateSpec } from './service-spec.js';

type Ctx = () => Context;

/**
 * `service update`: read the service, change its spec, send it back with the version read
 * (the manager refuses it if someone else wrote in between — optimistic concurrency).
 */
export function serviceUpdateCommand(ctx: Ctx): Command {
  const cmd = new Command('update')
    .description('Update a service')
    .usage('[OPTIONS] SERVICE')
    .argument('<SERVICE>');
  addUpdateFlags(cmd);
  return cmd.action(async (ref: string, f: ServiceFlags) => {
    const isGiven = (k: keyof ServiceFlags) => given(cmd, k);
    if (f.rollback) checkRollbackAlone(isGiven);
    const c = ctx();
    const clients = c.clients();
    const { service } = await call(clients, clients.control.getService, clients.control, { serviceId: ref });
    if (!service?.spec) throw new CliError(`service ${ref} not found`);
    const req = f.rollback
      ? { serviceId: service.id, serviceVersion: service.meta?.version ?? 0, spec: undefined, rollback: true }
      : { serviceId: service.id, serviceVersion: service.meta?.version ?? 0, spec: updateSpec(service.spec, f, isGiven), rollback: false };
    await call(clients, clients.control.updateService, clients.control, req);
    c.out(`${ref}\n`);
    if (!f.detach) await waitForConvergence(c, service.id, Boolean(f.quiet));
  });
}

/** `service rollback SERVICE`: the previous spec, as `update --rollback`. */
export function serviceRollbackCommand(ctx: Ctx): Command {
  return new Command('rollback')
    .description("Revert changes to a service's configuration")
    .usage('[OPTIONS] SERVICE')
    .argument('<SERVICE>')
    .option('-d, --detach', 'Exit immediately instead of waiting for the service to converge')
    .option('-q, --quiet', 'Suppress progress output')
    .action(async (ref: string, f: { detach?: boolean; quiet?: boolean }) => {
      const c = ctx();
      const clients = c.clients();
      const { service } = await call(clients, clients.control.getService, clients.control, { serviceId: ref });
      if (!service) throw new CliError(`service ${ref} not found`);
      await call(clients, clients.control.updateService, clients.control, { serviceId: service.id, serviceVersion: service.meta?.version ?? 0, spec: undefined, rollback: true });
      c.out(`${ref}\n`);
      if (!f.detach) await waitForConvergence(c, service.id, Boolean(f.quiet));
    });
}

/** `SERVICE=N` → [SERVICE, N]; refused as a whole before anything is scaled. */
export function parseScaleArg(a: string): [string, number] {
  const i = a.lastIndexOf('=');
  if (i <= 0) throw usageError(`invalid scale specifier '${a}': expected SERVICE=REPLICAS`);
  try {
    return [a.slice(0, i), parseUint(a.slice(i + 1))];
  } catch (e) {
    if (e instanceof BadValue) throw usageError(`invalid replicas value in '${a}': ${e.message}`);
    throw e;
  }
}

/**
 * `service scale web=5 api=2`: each service scaled in turn ("web scaled to 5"); a failure
 * for one is reported and the others still scaled, as Docker does; then progress for each.
 */
export function serviceScaleCommand(ctx: Ctx): Command {
  return new Command('scale')
    .description('Scale one or multiple replicated services')
    .usage('SERVICE=REPLICAS [SERVICE=REPLICAS...]')
    .argument('<SERVICE=REPLICAS...>')
    .option('-d, --detach', 'Exit immediately instead of waiting for the service to converge')
    .action(async (args: string[], f: { detach?: boolean }) => {
      const wanted = args.map(parseScaleArg);
      const c = ctx();
      const clients = c.clients();
      const errors: string[] = [];
      const scaled: string[] = [];
      for (const [ref, n] of wanted) {
        try {
          const { service } = await call(clients, clients.control.getService, clients.control, { serviceId: ref });
          if (!service?.spec) throw new CliError(`service ${ref} not found`);
          if (service.spec.mode?.$case !== 'replicated') throw new CliError('scale can only be used with replicated mode');
          const spec = structuredClone(service.spec);
          spec.mode = { $case: 'replicated', value: { replicas: n } };
          await call(clients, clients.control.updateService, clients.control, { serviceId: service.id, serviceVersion: service.meta?.version ?? 0, spec, rollback: false });
          c.out(`${ref} scaled to ${n}\n`);
          scaled.push(service.id);
        } catch (e) {
          errors.push(`${ref}: ${(e as Error).message}`);
        }
      }
      if (!f.detach) {
        for (const id of scaled) await waitForConvergence(c, id, false);
      }
      if (errors.length) throw new CliError(errors.join('\n'));
    });
}
