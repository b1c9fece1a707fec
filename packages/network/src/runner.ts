// How the data plane runs the kernel tools (ip, bridge, nft, sysctl, nsenter): an injectable
// CommandRunner, so tests can run a whole node inside a test namespace by prefixing every
// command with `nsenter --net=/run/netns/<host>`. Not `ip netns exec`: it runs each command in
// a new mount namespace that is a slave of ours, so the bind mounts made by `ip netns add` or
// `ip netns attach` under it would vanish when the command exits.
//
// Contract: `run` spawns argv directly (never a shell), writes `input` to stdin, resolves
// with stdout on exit code 0 and rejects with a CommandError (exit code, stderr) otherwise.
// Calls may run concurrently.
import { spawn } from 'node:child_process';
import { addonMissing, loadAddon } from './addons.js';

export interface CommandRunner {
  run(argv: readonly string[], input?: string): Promise<string>;
}

export class CommandError extends Error {
  constructor(readonly argv: readonly string[], readonly code: number | null, readonly stderr: string) {
    super(`${argv.join(' ')}: ${stderr.trim() || `exit code ${code}`}`);
    this.name = 'CommandError';
  }
}

/**
 * The addon's contract (native/spawn.c): runs argv to completion on a thread of its own, then
 * calls back on the event loop — with `err` when the command could not start.
 */
interface SpawnAddon {
  run(argv: readonly string[], input: Buffer, done: (err: (Error & { code?: string }) | null, code: number | null, signal: number | null, stdout: Buffer, stderr: Buffer) => void): void;
}

/** The addon, or undefined when it was not built (npm ci without build tools). */
function loadSpawnAddon(): SpawnAddon | undefined {
  try {
    return loadAddon<SpawnAddon>('tswarm_spawn', 'spawn');
  } catch {
    return undefined;
  }
}

/** How commands are started: the addon (see native/spawn.c for why) or Node's child_process. */
export type Spawner = 'addon' | 'child_process';

/**
 * Runs commands on this machine, each prefixed with `prefix` (e.g. ['ip', 'netns', 'exec', 'h1']).
 * Started through the addon when it is built (a command then costs the event loop ≈ 0.1 ms
 * instead of the 6 ms of child_process's fork on this machine), else through child_process;
 * the two behave the same (runner.test.ts runs one suite against both). `spawner` insists on one.
 */
export function execRunner(prefix: readonly string[] = [], spawner?: Spawner): CommandRunner {
  const addon = spawner === 'child_process' ? undefined : loadSpawnAddon();
  if (spawner === 'addon' && !addon) throw addonMissing('tswarm_spawn', 'spawn');
  return {
    run(argv, input) {
      const full = [...prefix, ...argv];
      return addon ? runWithAddon(addon, argv, full, input) : runWithChildProcess(argv, full, input);
    },
  };
}

function runWithAddon(addon: SpawnAddon, argv: readonly string[], full: readonly string[], input: string | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    addon.run(full, Buffer.from(input ?? ''), (err, code, signal, stdout, stderr) => {
      if (err) reject(new CommandError(argv, null, `spawn ${full[0]} ${err.code ?? ''}: ${err.message}`));
      else if (code === 0) resolve(stdout.toString());
      else reject(new CommandError(argv, code, stderr.toString() || (signal !== null ? `killed by signal ${signal}` : '')));
    });
  });
}

function runWithChildProcess(argv: readonly string[], full: readonly string[], input: string | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(full[0]!, full.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', (e) => reject(new CommandError(argv, null, e.message)));
    child.on('close', (code, signal) => {
      if (code === 0) resolve(Buffer.concat(out).toString());
      else reject(new CommandError(argv, code, Buffer.concat(err).toString() || (signal ? `killed by signal ${signal}` : '')));
    });
    child.stdin.on('error', () => undefined); // the child may exit before reading it all
    child.stdin.end(input ?? '');
  });
}
