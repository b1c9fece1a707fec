/**
 * The logging contract every package accepts by injection (STYLE.md point 10: plug-ins are
 * passed in, never set through module globals). The daemon owns the one real implementation.
 */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `component=name` to every line. */
  child(component: string): Logger;
}

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(s: string): s is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(s);
}

/**
 * Writes `time level [component] msg key=value…` lines to a stream (stderr by default).
 * Values are JSON-encoded only when they are not plain words, so lines stay grep-able.
 */
export function streamLogger(
  level: LogLevel,
  write: (line: string) => void = (l) => process.stderr.write(l),
  now: () => Date = () => new Date(),
  component = '',
): Logger {
  const min = LOG_LEVELS.indexOf(level);
  const emit = (lvl: LogLevel, msg: string, fields?: Record<string, unknown>) => {
    if (LOG_LEVELS.indexOf(lvl) < min) return;
    let line = `${now().toISOString()} ${lvl.toUpperCase().padEnd(5)} ${component ? `[${component}] ` : ''}${msg}`;
    for (const [k, v] of Object.entries(fields ?? {})) {
      const s = typeof v === 'string' && /^[\w.:/@-]+$/.test(v) ? v : JSON.stringify(v instanceof Error ? v.message : v);
      line += ` ${k}=${s}`;
    }
    write(line + '\n');
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (c) => streamLogger(level, write, now, component ? `${component}/${c}` : c),
  };
}

/** Discards everything; for tests. */
export const silentLogger: Logger = {
  debug() {}, info() {}, warn() {}, error() {},
  child() { return silentLogger; },
};
