import { Command } from 'commander';
import { DEFAULT_HOST, HOST_ENV, HostAddress, parseHost } from '@tswarm/api';
import { Clients, connect } from './client.js';
import { usageError } from './errors.js';

/** The global options every command sees, and the lazily opened connection to the daemon. */
export class Context {
  private opened: Clients | undefined;

  constructor(readonly host: HostAddress, readonly debug: boolean, readonly out: (s: string) => void) {}

  static fromProgram(program: Command, out: (s: string) => void): Context {
    const o = program.opts<{ host?: string; debug?: boolean; logLevel?: string }>();
    let host: HostAddress;
    try {
      host = parseHost(o.host ?? process.env[HOST_ENV] ?? DEFAULT_HOST);
    } catch (e) {
      throw usageError((e as Error).message);
    }
    return new Context(host, Boolean(o.debug) || o.logLevel === 'debug', out);
  }

  clients(): Clients {
    this.opened ??= connect(this.host);
    return this.opened;
  }

  close(): void {
    this.opened?.close();
  }
}

/** `--format json` is the one machine format; anything else is refused rather than ignored. */
export function checkFormat(format: string | undefined): 'json' | 'table' {
  if (format === undefined || format === '' || format === 'table') return 'table';
  if (format === 'json') return 'json';
  throw usageError(`unsupported --format "${format}": use "json" or "table"`);
}
