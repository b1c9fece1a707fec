import { Command } from 'commander';
import { DEFAULT_HOST, HOST_ENV, HostAddress, parseHost } from '@tswarm/api';
import { Clients, connect } from './client.js';
import { usageError } from './errors.js';

/** Where output goes, and what kind of screen it is (progress redraws only on a terminal). */
export interface Io {
  out(s: string): void;
  err(s: string): void;
  /** stdout is a terminal: progress is drawn and redrawn in place. Default false. */
  isTTY?: boolean;
  /** Terminal width; Docker draws progress bars only on terminals wider than 110. */
  columns?: number;
}

/** The global options every command sees, and the lazily opened connection to the daemon. */
export class Context {
  private opened: Clients | undefined;
  readonly out: (s: string) => void;
  readonly err: (s: string) => void;
  readonly isTTY: boolean;
  readonly columns: number;

  constructor(readonly host: HostAddress, readonly debug: boolean, io: Io) {
    this.out = io.out;
    this.err = io.err;
    this.isTTY = io.isTTY ?? false;
    this.columns = io.columns ?? 80;
  }

  static fromProgram(program: Command, io: Io): Context {
    const o = program.opts<{ host?: string; debug?: boolean; logLevel?: string }>();
    let host: HostAddress;
    try {
      host = parseHost(o.host ?? process.env[HOST_ENV] ?? DEFAULT_HOST);
    } catch (e) {
      throw usageError((e as Error).message);
    }
    return new Context(host, Boolean(o.debug) || o.logLevel === 'debug', io);
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
