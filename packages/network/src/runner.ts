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

export interface CommandRunner {
  run(argv: readonly string[], input?: string): Promise<string>;
}

export class CommandError extends Error {
  constructor(readonly argv: readonly string[], readonly code: number | null, readonly stderr: string) {
    super(`${argv.join(' ')}: ${stderr.trim() || `exit code ${code}`}`);
    this.name = 'CommandError';
  }
}

/** Runs commands on this machine, each prefixed with `prefix` (e.g. ['ip', 'netns', 'exec', 'h1']). */
export function execRunner(prefix: readonly string[] = []): CommandRunner {
  return {
    run(argv, input) {
      const full = [...prefix, ...argv];
      return new Promise((resolve, reject) => {
        const child = spawn(full[0]!, full.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on('data', (b: Buffer) => out.push(b));
        child.stderr.on('data', (b: Buffer) => err.push(b));
        child.on('error', (e) => reject(new CommandError(argv, null, e.message)));
        child.on('close', (code) => {
          if (code === 0) resolve(Buffer.concat(out).toString());
          else reject(new CommandError(argv, code, Buffer.concat(err).toString()));
        });
        child.stdin.on('error', () => undefined); // the child may exit before reading it all
        child.stdin.end(input ?? '');
      });
    },
  };
}
