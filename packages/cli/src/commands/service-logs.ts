import { Command, Option } from 'commander';
import * as grpc from '@grpc/grpc-js';
import { LogMessage } from '@tswarm/api';
import { call, translate } from '../client.js';
import { Context } from '../context.js';
import { CliError } from '../errors.js';
import { BadValue, flagParser, parseUint } from '../flags/parse.js';
import { truncateId } from '../render/table.js';

type Ctx = () => Context;

export interface LogPrefixOptions {
  serviceName: string;
  /** Digits of the largest slot, so `web.1` and `web.10` line up (Docker's padding). */
  slotWidth: number;
  nodeNames: Map<string, string>;
  noTrunc: boolean;
  noTaskIds: boolean;
  timestamps: boolean;
}

/** `web.1.abcdef123456@h1    | line` (with `2024-…Z ` in front under -t), one per line of the message. */
export function formatLogLines(m: LogMessage, o: LogPrefixOptions): string {
  const id = o.noTaskIds ? '' : `.${o.noTrunc ? m.taskId : truncateId(m.taskId)}`;
  const pad = ' '.repeat(Math.max(0, o.slotWidth - String(m.slot).length));
  const node = o.nodeNames.get(m.nodeId) ?? m.nodeId;
  const ts = o.timestamps ? `${new Date(m.timestampMs).toISOString()} ` : '';
  const prefix = `${ts}${o.serviceName}.${m.slot}${id}@${node}${pad}    | `;
  const text = Buffer.from(m.data).toString('utf8');
  const lines = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
  return lines.map((l) => `${prefix}${l}\n`).join('');
}

function parseTail(v: string): number {
  if (v === 'all') return -1;
  try {
    return parseUint(v);
  } catch {
    throw new BadValue('expected a number of lines or "all"');
  }
}

export function serviceLogsCommand(ctx: Ctx): Command {
  return new Command('logs')
    .description('Fetch the logs of a service')
    .usage('[OPTIONS] SERVICE')
    .argument('<SERVICE>')
    .option('-f, --follow', 'Follow log output')
    .option('--no-task-ids', 'Do not include task IDs in output')
    .option('--no-trunc', 'Do not truncate output')
    .addOption(new Option('-n, --tail <string>', 'Number of lines to show from the end of the logs').argParser(flagParser('--tail', parseTail)).default(-1, '"all"'))
    .option('-t, --timestamps', 'Show timestamps')
    .action(async (ref: string, o: { follow?: boolean; taskIds: boolean; trunc: boolean; tail: number; timestamps?: boolean }) => {
      const c = ctx();
      const clients = c.clients();
      const { service } = await call(clients, clients.control.getService, clients.control, { serviceId: ref });
      if (!service) throw new CliError(`service ${ref} not found`);
      const { nodes } = await call(clients, clients.control.listNodes, clients.control, {});
      const replicas = service.spec?.mode?.$case === 'replicated' ? service.spec.mode.value.replicas : 0;
      const prefix: LogPrefixOptions = {
        serviceName: service.spec?.name || service.id,
        slotWidth: String(Math.max(1, replicas)).length,
        nodeNames: new Map(nodes.map((n) => [n.id, n.description?.hostname || n.id])),
        noTrunc: !o.trunc, noTaskIds: !o.taskIds, timestamps: Boolean(o.timestamps),
      };
      const stream = clients.control.serviceLogs({ serviceId: service.id, follow: Boolean(o.follow), tail: o.tail, timestamps: Boolean(o.timestamps) });
      await new Promise<void>((resolve, reject) => {
        stream.on('data', (m: LogMessage) => (m.stderr ? c.err : c.out)(formatLogLines(m, prefix)));
        stream.on('error', (e: grpc.ServiceError) => (e.code === grpc.status.CANCELLED ? resolve() : reject(translate(e, clients.host))));
        stream.on('end', () => resolve());
      });
    });
}
