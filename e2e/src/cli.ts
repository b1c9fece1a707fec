// `npm run lab -- <command>`: drive the test-host lab by hand.
//   up N [--subnet CIDR] [--no-daemons]   bring up hosts h1..hN (and one tswarmd each)
//   status                                hosts, addresses, daemon PIDs and whether they live
//   exec HOST [--] CMD [ARG...]           run CMD inside HOST (`tswarm` = the repo's CLI)
//   down                                  remove the lab, also after a crash
// Every command takes --prefix P (default env TSWARM_LAB_PREFIX or "tsw").
// Exit codes: 0 ok, 1 failed (one line on stderr), 2 bad usage; exec passes on CMD's code.
import { spawn } from 'node:child_process';
import { DEFAULT_SUBNET, LabOptions, defaultPrefix } from './config.js';
import { Lab } from './lab.js';

const USAGE = `usage: npm run lab -- up N [--prefix P] [--subnet CIDR (default ${DEFAULT_SUBNET})] [--no-daemons]
       npm run lab -- status [--prefix P]
       npm run lab -- exec HOST [--] CMD [ARG...]      e.g. npm run lab -- exec h2 -- tswarm info
       npm run lab -- down [--prefix P]`;

class UsageError extends Error {}

interface Parsed {
  command: string;
  positional: string[];
  /** Everything after the exec host (the command to run), untouched. */
  rest: string[];
  prefix: string;
  subnet?: string;
  noDaemons: boolean;
}

function parse(argv: string[]): Parsed {
  const p: Parsed = { command: '', positional: [], rest: [], prefix: defaultPrefix(), noDaemons: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    // For exec, everything after the host is the command, including its own flags.
    if (p.command === 'exec' && p.positional.length === 1) {
      p.rest = argv.slice(a === '--' ? i + 1 : i);
      break;
    }
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '--prefix') p.prefix = value();
    else if (a === '--subnet') p.subnet = value();
    else if (a === '--no-daemons') p.noDaemons = true;
    else if (a === '-h' || a === '--help' || a === 'help') p.command = 'help';
    else if (a.startsWith('-')) throw new UsageError(`unknown option ${a}`);
    else if (p.command === '') p.command = a;
    else p.positional.push(a);
  }
  return p;
}

function seconds(startMs: number): string {
  return ((Date.now() - startMs) / 1000).toFixed(1);
}

async function up(p: Parsed): Promise<number> {
  const n = Number(p.positional[0]);
  if (p.positional.length !== 1 || !Number.isInteger(n)) throw new UsageError('up needs the number of hosts, e.g. up 3');
  const opts: LabOptions = { prefix: p.prefix, startDaemons: !p.noDaemons };
  if (p.subnet !== undefined) opts.subnet = p.subnet;
  const t0 = Date.now();
  const lab = await Lab.up(n, opts);
  console.log(`lab ${lab.prefix}: ${n} host${n === 1 ? '' : 's'} up in ${seconds(t0)} s (subnet ${lab.state.subnet})`);
  for (const s of lab.status()) console.log(`  ${s.name}  ${s.address}  ${s.pid !== undefined ? `tswarmd pid ${s.pid}` : 'no daemon'}`);
  console.log(`try: npm run lab -- exec h1 -- tswarm info`);
  return 0;
}

function status(p: Parsed): number {
  const lab = Lab.attach(p.prefix);
  const st = lab.state;
  console.log(`lab ${st.prefix}: subnet ${st.subnet}, bridge ${st.bridge} in namespace ${st.switchNetns}, state /run/tswarm-lab/${st.prefix}, up since ${st.createdAt}`);
  const rows = [['HOST', 'NAMESPACE', 'ADDRESS', 'TSWARMD', 'SOCKET']];
  for (const s of lab.status()) {
    const d = s.pid === undefined ? 'not started' : `pid ${s.pid} ${s.daemonAlive ? 'running' : 'dead'}`;
    rows.push([s.name, s.netnsUp ? s.netns : `${s.netns} (missing)`, s.address, d, s.socket]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const r of rows) console.log(r.map((cell, c) => cell.padEnd(widths[c]!)).join('   ').trimEnd());
  return 0;
}

/** Runs the command with the terminal attached and passes on its exit code (128+N for signals). */
function exec(p: Parsed): Promise<number> {
  const host = p.positional[0];
  if (host === undefined || p.rest.length === 0) throw new UsageError('exec needs a host and a command, e.g. exec h2 -- tswarm info');
  const lab = Lab.attach(p.prefix);
  const argv = lab.execArgv(host, p.rest);
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: 'inherit', env: lab.env(host) });
    child.on('error', (e) => {
      console.error(`lab: ${e.message}`);
      resolve(127);
    });
    child.on('close', (code, signal) => resolve(code ?? (signal === 'SIGKILL' ? 137 : 143)));
  });
}

async function down(p: Parsed): Promise<number> {
  const t0 = Date.now();
  const r = await Lab.destroy(p.prefix);
  const what = [
    `${r.killed.length} process${r.killed.length === 1 ? '' : 'es'} stopped`,
    `${r.netns.length} namespace${r.netns.length === 1 ? '' : 's'} removed`,
    `${r.containers.length} container${r.containers.length === 1 ? '' : 's'} removed`,
  ];
  if (r.links.length > 0) what.push(`${r.links.length} leaked link(s) removed`);
  console.log(`lab ${p.prefix}: down in ${seconds(t0)} s (${what.join(', ')})`);
  return 0;
}

async function main(argv: string[]): Promise<number> {
  const p = parse(argv);
  switch (p.command) {
    case 'up':
      return up(p);
    case 'status':
      return status(p);
    case 'exec':
      return exec(p);
    case 'down':
      return down(p);
    case 'help':
      console.log(USAGE);
      return 0;
    case '':
      throw new UsageError('no command given');
    default:
      throw new UsageError(`unknown command "${p.command}"`);
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: Error) => {
    if (e instanceof UsageError) {
      console.error(`lab: ${e.message} (see: npm run lab -- help)`);
      process.exit(2);
    }
    console.error(`lab: ${e.message}`);
    if (process.env['TSWARM_LAB_DEBUG'] === '1') console.error(e.stack);
    process.exit(1);
  },
);
