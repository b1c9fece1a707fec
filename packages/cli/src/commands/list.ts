import { Command, Option } from 'commander';
import type { Clients } from '../client.js';
import { checkFormat, Context } from '../context.js';

export interface ListOptions {
  quiet: boolean;
  format: 'json' | 'table';
  noTrunc: boolean;
}

export interface ListSpec {
  description: string;
  /** Help for -q; Docker says "Only display IDs" or e.g. "Only display network IDs". */
  quietHelp?: string;
  /** Offer --no-trunc (full IDs). */
  noTrunc?: boolean;
  /** Fetches and renders the rows. */
  lines(clients: Clients, o: ListOptions): Promise<string[]>;
}

/** `tswarm <kind> ls|list [-q] [--format json|table] [--no-trunc]`, the same for every kind. */
export function listCommand(ctx: () => Context, spec: ListSpec): Command {
  const cmd = new Command('ls')
    .alias('list')
    .description(spec.description)
    .addOption(new Option('--format <string>', 'Format output: "json" or "table"'));
  if (spec.noTrunc) cmd.option('--no-trunc', 'Do not truncate the output');
  return cmd
    .option('-q, --quiet', spec.quietHelp ?? 'Only display IDs')
    .action(async (o: { format?: string; quiet?: boolean; trunc?: boolean }) => {
      const format = checkFormat(o.format);
      const c = ctx();
      const lines = await spec.lines(c.clients(), { quiet: Boolean(o.quiet), format, noTrunc: o.trunc === false });
      if (lines.length) c.out(lines.join('\n') + '\n');
    });
}
