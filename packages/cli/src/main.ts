import { Command, CommanderError, Option } from 'commander';
import { LOG_LEVELS, TSWARM_VERSION } from '@tswarm/api';
import { networkCommand } from './commands/network.js';
import { nodeCommand } from './commands/node.js';
import { serviceCommand } from './commands/service.js';
import { initCommand, joinCommand, swarmCommand } from './commands/swarm.js';
import { infoCommand, versionCommand } from './commands/system.js';
import { Context, Io } from './context.js';
import { CliError, EXIT_USAGE } from './errors.js';
import { dockerHelp } from './help.js';

export { Io } from './context.js';

const processIo: Io = {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
  isTTY: Boolean(process.stdout.isTTY),
  columns: process.stdout.columns,
};

/** Builds the `tswarm` command tree; `ctx()` is valid once the global options are parsed. */
export function buildProgram(io: Io): { program: Command; ctx: () => Context } {
  let context: Context | undefined;
  const program = new Command('tswarm');
  const ctx = () => (context ??= Context.fromProgram(program, io));
  program
    .description('A self-sufficient orchestrator for containers')
    .usage('[OPTIONS] COMMAND')
    // Global options only before the command, as in Docker: `service create img cmd -D` passes -D to cmd.
    .enablePositionalOptions()
    .option('-H, --host <string>', 'Daemon socket to connect to (env TSWARM_HOST)')
    .option('-D, --debug', 'Enable debug mode')
    .addOption(new Option('-l, --log-level <string>', `Set the logging level (${LOG_LEVELS.map((l) => `"${l}"`).join(', ')})`).default('info'))
    .version(TSWARM_VERSION, '-v, --version', 'Print version information and quit')
    .addCommand(networkCommand(ctx))
    .addCommand(nodeCommand(ctx))
    .addCommand(serviceCommand(ctx))
    .addCommand(swarmCommand(ctx))
    .addCommand(infoCommand(ctx))
    // `tswarm init` / `tswarm join`: the short forms the README uses for `swarm init` / `swarm join`.
    .addCommand(initCommand(ctx))
    .addCommand(joinCommand(ctx))
    .addCommand(versionCommand(ctx));
  configureTree(program, io);
  return { program, ctx: () => ctx() };
}

/** Docker-style help and errors for every command, and no process.exit inside commander. */
function configureTree(cmd: Command, io: Io): void {
  cmd.helpCommand(false);
  cmd.configureHelp({ formatHelp: dockerHelp });
  cmd.exitOverride();
  cmd.configureOutput({ writeOut: io.out, writeErr: () => {} });
  cmd.showHelpAfterError(false);
  for (const sub of cmd.commands) configureTree(sub, io);
}

/** Runs the CLI and returns the exit code; never throws. */
export async function run(argv: string[], io: Io = processIo): Promise<number> {
  const { program, ctx } = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (e) {
    return report(e, argv, io, program);
  } finally {
    try {
      ctx().close();
    } catch {
      // a usage error before the context existed: nothing to close
    }
  }
}

function report(e: unknown, argv: string[], io: Io, program: Command): number {
  const where = commandWords(program, argv);
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
    io.err(`${commanderMessage(e, where)}. See '${where} --help'.\n`);
    return EXIT_USAGE;
  }
  if (e instanceof CliError) {
    // Bad input reads like Docker's flag errors: the problem, then where to look. Nothing was sent.
    if (e.exitCode === EXIT_USAGE) io.err(`${e.message.replace(/\.$/, '')}. See '${where} --help'.\n`);
    else io.err(`${e.message.startsWith('Cannot connect') ? '' : 'Error: '}${e.message}\n`);
    return e.exitCode;
  }
  const debug = argv.includes('-D') || argv.includes('--debug');
  io.err(`Error: ${(e as Error).message}\n`);
  if (debug) io.err(`${(e as Error).stack}\n`);
  return 1;
}

/** Docker's wording for flag errors: "unknown flag: --foo", "flag needs an argument: --host". */
function commanderMessage(e: CommanderError, where: string): string {
  const m = e.message.replace(/^error: /, '');
  const flag = /'([^']+)'/.exec(m)?.[1] ?? '';
  switch (e.code) {
    case 'commander.unknownOption': return `unknown flag: ${flag.split(' ')[0]}`;
    case 'commander.optionMissingArgument': return `flag needs an argument: ${flag.split(' ').filter((w) => w.startsWith('-')).pop()}`;
    case 'commander.unknownCommand': return `unknown command: ${flag}`;
    case 'commander.missingArgument': return `"${where}" requires at least 1 argument (${flag} is missing)`;
    case 'commander.excessArguments': {
      const n = /Expected (\d+) arguments?/.exec(m)?.[1] ?? '0';
      return n === '0' ? `"${where}" accepts no arguments` : `"${where}" accepts at most ${n} argument${n === '1' ? '' : 's'}`;
    }
    default: return m.replace(/\.$/, '');
  }
}

/** "tswarm node ls" from argv and the command tree, for the "See 'tswarm node ls --help'." hint. */
function commandWords(program: Command, argv: string[]): string {
  const words = ['tswarm'];
  let cmd = program;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (cmd === program && (a === '-H' || a === '--host' || a === '-l' || a === '--log-level')) { i++; continue; }
    if (a.startsWith('-')) continue;
    const sub = cmd.commands.find((c) => c.name() === a || c.aliases().includes(a));
    if (!sub) break;
    words.push(sub.name());
    cmd = sub;
  }
  return words.join(' ');
}

export async function main(): Promise<void> {
  process.exitCode = await run(process.argv.slice(2));
}
