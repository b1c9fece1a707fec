import { Command, Option } from 'commander';
import { Service, Task } from '@tswarm/api';
import { call } from '../client.js';
import { checkFormat, Context } from '../context.js';
import { renderTaskList } from '../render/tasks.js';

type Ctx = () => Context;

/**
 * `service ps SERVICE...`: every task of the services, history included, so a restarted
 * slot shows its failed predecessors under it. Names are resolved first (GetService), so an
 * unknown service is an error rather than an empty table.
 */
export function servicePsCommand(ctx: Ctx): Command {
  return new Command('ps')
    .description('List the tasks of one or more services')
    .usage('[OPTIONS] SERVICE [SERVICE...]')
    .argument('<SERVICE...>')
    .addOption(new Option('--format <string>', 'Format output: "json" or "table"'))
    .option('--no-trunc', 'Do not truncate output')
    .option('-q, --quiet', 'Only display task IDs')
    .action(async (refs: string[], o: { format?: string; trunc: boolean; quiet?: boolean }) => {
      const format = checkFormat(o.format);
      const c = ctx();
      const clients = c.clients();
      const services: Service[] = [];
      for (const ref of refs) {
        const { service } = await call(clients, clients.control.getService, clients.control, { serviceId: ref });
        if (service && !services.some((s) => s.id === service.id)) services.push(service);
      }
      const tasks: Task[] = [];
      for (const s of services) {
        tasks.push(...(await call(clients, clients.control.listTasks, clients.control, { serviceId: s.id, nodeId: '', includeHistory: true })).tasks);
      }
      const { nodes } = await call(clients, clients.control.listNodes, clients.control, {});
      const lines = renderTaskList(tasks, {
        quiet: Boolean(o.quiet), noTrunc: !o.trunc, format, nowMs: Date.now(),
        nodeNames: new Map(nodes.map((n) => [n.id, n.description?.hostname || n.id])),
        serviceNames: new Map(services.map((s) => [s.id, s.spec?.name || s.id])),
      });
      if (lines.length) c.out(lines.join('\n') + '\n');
    });
}
