import { Command, Option } from 'commander';
import type { Clients } from '../client.js';
import { checkFormat, Context } from '../context.js';
import { usageError } from '../errors.js';

/** Docker's inspect JSON indentation. */
export const INSPECT_INDENT = 4;

export interface InspectSpec<T> {
  /** "nodes", "services", "networks": for the description. */
  plural: string;
  /** "self|NODE", "SERVICE": the argument's name in the usage line. */
  argName: string;
  fetch(clients: Clients, ref: string): Promise<T>;
  /** The JSON form (the wire object's canonical mapping, or Docker's shape). */
  json(obj: T): unknown;
  /** `--pretty` lines, when the kind has a human form. */
  pretty?(obj: T): string[];
}

/** `tswarm <kind> inspect [--pretty] REF...`: a JSON array like Docker's, or pretty blocks. */
export function inspectCommand<T>(ctx: () => Context, spec: InspectSpec<T>): Command {
  const cmd = new Command('inspect')
    .description(`Display detailed information on one or more ${spec.plural}`)
    .usage(`[OPTIONS] ${spec.argName} [${spec.argName.split('|').pop()}...]`)
    .argument(`<${spec.argName.split('|').pop()}...>`)
    .addOption(new Option('-f, --format <string>', 'Format output: "json"'));
  if (spec.pretty) cmd.option('--pretty', 'Print the information in a human friendly format');
  return cmd.action(async (refs: string[], o: { format?: string; pretty?: boolean }) => {
    if (o.pretty && o.format) throw usageError('--format is incompatible with --pretty');
    // Inspect prints JSON only: "table" is a list format, refused here rather than ignored.
    if (checkFormat(o.format) === 'table' && o.format) {
      throw usageError(`unsupported --format "${o.format}" for inspect: use "json"${spec.pretty ? ', or --pretty for a human form' : ''}`);
    }
    const c = ctx();
    const clients = c.clients();
    const found: T[] = [];
    for (const ref of refs) found.push(await spec.fetch(clients, ref));
    if (o.pretty && spec.pretty) c.out(found.map((x) => spec.pretty!(x).join('\n') + '\n').join('\n\n'));
    else c.out(JSON.stringify(found.map((x) => spec.json(x)), null, INSPECT_INDENT) + '\n');
  });
}
