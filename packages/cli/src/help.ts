import { Command, Help, Option } from 'commander';

/**
 * Help text laid out like Docker's CLI (cobra): a blank line, `Usage:  tswarm …`, the
 * description, then "Management Commands" (those with sub-commands), "Commands", and
 * "Options" (or "Global Options" at the root) with Go-style value types ("string", "list").
 */
export function dockerHelp(cmd: Command, helper: Help): string {
  const path = commandPath(cmd);
  const subs = helper.visibleCommands(cmd).filter((c) => c.name() !== 'help');
  const isRoot = !cmd.parent;
  const out: string[] = [''];
  const usage = cmd.usage() && !/^\[options\]( \[command\])?$/.test(cmd.usage()) ? cmd.usage() : subs.length ? (isRoot ? '[OPTIONS] COMMAND' : 'COMMAND') : '[OPTIONS]';
  out.push(`Usage:  ${path} ${usage}`, '');
  if (cmd.description()) out.push(cmd.description(), '');
  const aliases = cmd.aliases();
  if (aliases.length) out.push('Aliases:', `  ${[cmd.name(), ...aliases].map((a) => `${parentPath(cmd)} ${a}`.trim()).join(', ')}`, '');
  const mgmt = subs.filter((c) => c.commands.length > 0);
  const leaves = subs.filter((c) => c.commands.length === 0);
  const table = (cs: Command[]) => cs.map((c) => `  ${c.name().padEnd(11)} ${c.description()}`);
  if (mgmt.length) out.push('Management Commands:', ...table(mgmt), '');
  if (leaves.length) out.push('Commands:', ...table(leaves), '');
  // Sorted by long name, as pflag lists them (commander's own sort keys on the short flag).
  const opts = helper.visibleOptions(cmd).filter((o) => o.long !== '--help').sort((a, b) => ((a.long ?? '') < (b.long ?? '') ? -1 : 1));
  if (opts.length && (isRoot || !subs.length)) {
    const rows = opts.map((o) => [flagColumn(o), optionDescription(o)] as const);
    const width = Math.max(...rows.map((r) => r[0].length));
    out.push(isRoot ? 'Global Options:' : 'Options:', ...rows.map(([f, d]) => `  ${f.padEnd(width)}   ${d}`), '');
  }
  if (subs.length) out.push(`Run '${path} COMMAND --help' for more information on a command.`, '');
  return out.join('\n');
}

function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function parentPath(cmd: Command): string {
  return cmd.parent ? commandPath(cmd.parent) : '';
}

/** `-H, --host string` or `      --format string`, Go-style type names from `<string>`. */
function flagColumn(o: Option): string {
  const type = /<([\w-]+)(\.\.\.)?>|\[([\w-]+)\]/.exec(o.flags);
  const typeName = type ? ` ${type[1] ?? type[3]}` : '';
  const short = o.short ? `${o.short}, ` : '    ';
  return `${short}${o.long ?? ''}${typeName}`;
}

function optionDescription(o: Option): string {
  // A parsed default (5000 ms) prints as the user would type it ("5s") when the option says how.
  const shown = o.defaultValueDescription ?? (typeof o.defaultValue === 'string' ? `"${o.defaultValue}"` : String(o.defaultValue));
  const dflt = o.defaultValue !== undefined && o.defaultValue !== false && !(Array.isArray(o.defaultValue) && o.defaultValue.length === 0)
    ? ` (default ${shown})`
    : '';
  return `${o.description}${dflt}`;
}
