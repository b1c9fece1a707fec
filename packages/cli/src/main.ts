import { Command, CommanderError, Option } from 'commander';
import { LOG_LEVELS, TSWARM_VERSION } from '@tswarm/api';
import { infoCommand, versionCommand } from './commands/system.js';
import { Context } from './context.js';
import { CliError, EXIT_USAGE } from './errors.js';
import { dockerHelp } from './help.js';

export interface Io {
  out(s: string): void;
  err(s: string): void;
}

const processIo: Io = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) };

/** Builds the `tswarm` command tree; `ctx()` is valid once the global options are parsed. */
export function buildProgram(io: Io): { program: Command; ctx: () => Context } {
  let context: Context | undefined;
  const program = new Command('tswarm');
  const ctx = () => (context ??= Context.fromProgram(program, io.out));
  program
    .description('A self-sufficient orchestrator for containers')
    .usage('[OPTIONS] COMMAND')
    .option('-H, --host <string>', 'Daemon socket to connect to (env TSWARM_HOST)')
    .option('-D, --debug', 'Enable debug mode')
    .addOption(new Option('-l, --log-level <string>', `Set the logging level (${LOG_LEVELS.map((l) => `"${l}"`).join(', ')})`).default('info'))
    .version(TSWARM_VERSION, '-v, --version', 'Print version information and quit')
    .addCommand(infoCommand(ctx))
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
    return report(e, argv, io);
  } finally {
    try {
      ctx().close();
    } catch {
      // a usage error before the context existed: nothing to close
    }
  }
}

function report(e: unknown, argv: string[], io: Io): number {
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
    const where = commandWords(argv);
    io.err(`${commanderMessage(e)}. See '${where} --help'.\n`);
    return EXIT_USAGE;
  }
  if (e instanceof CliError) {
    io.err(`${e.message.startsWith('Cannot connect') ? '' : 'Error: '}${e.message}\n`);
    return e.exitCode;
  }
  const debug = argv.includes('-D') || argv.includes('--debug');
  io.err(`Error: ${(e as Error).message}\n`);
  if (debug) io.err(`${(e as Error).stack}\n`);
  return 1;
}

/** Docker's wording for flag errors: "unknown flag: --foo", "flag needs an argument: --host". */
function commanderMessage(e: CommanderError): string {
  const m = e.message.replace(/^error: /, '');
  const flag = /'([^']+)'/.exec(m)?.[1] ?? '';
  switch (e.code) {
    case 'commander.unknownOption': return `unknown flag: ${flag.split(' ')[0]}`;
    case 'commander.optionMissingArgument': return `flag needs an argument: ${flag.split(' ').pop()}`;
    case 'commander.unknownCommand': return `unknown command: ${flag}`;
    case 'commander.excessArguments': return m.replace(/\.$/, '');
    default: return m.replace(/\.$/, '');
  }
}

/** "tswarm node ls" from argv, for the "See 'tswarm node ls --help'." hint. */
function commandWords(argv: string[]): string {
  const words = ['tswarm'];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-H' || a === '--host' || a === '-l' || a === '--log-level') { i++; continue; }
    if (a.startsWith('-')) continue;
    if (!/^[a-z][a-z-]*$/.test(a)) break;
    words.push(a);
    if (words.length >= 3) break;
  }
  return words.join(' ');
}

export async function main(): Promise<void> {
  process.exitCode = await run(process.argv.slice(2));
}
