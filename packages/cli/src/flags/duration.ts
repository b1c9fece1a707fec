import { BadValue } from './parse.js';

/** Go's time.ParseDuration units, in milliseconds (Docker's duration flags take Go syntax). */
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, 'μs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a Go-style duration ("5s", "1m30s", "300ms", "1.5h", "0") into whole milliseconds,
 * the unit of every duration on the wire. Negative values are refused, as Docker's
 * DurationOpt does. Sub-millisecond remainders round to the nearest millisecond.
 */
export function parseDurationMs(v: string): number {
  if (v === '0') return 0;
  const re = /(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  if (v.startsWith('-')) throw new BadValue('duration cannot be negative');
  const s = v.startsWith('+') ? v.slice(1) : v;
  while ((m = re.exec(s)) !== null) {
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    matched = re.lastIndex;
  }
  if (s === '' || matched !== s.length) throw new BadValue('expected a duration such as 5s, 1m30s or 300ms (units ns, us, ms, s, m, h)');
  return Math.round(total);
}

/** Milliseconds back into Go's notation ("1m30s", "500ms", "0s"), for help defaults and --pretty. */
export function formatDurationMs(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1000) return `${ms}ms`;
  let rest = ms;
  let out = '';
  const h = Math.floor(rest / 3_600_000);
  rest -= h * 3_600_000;
  const m = Math.floor(rest / 60_000);
  rest -= m * 60_000;
  if (h) out += `${h}h`;
  if (h || m) out += `${m}m`;
  return `${out}${rest / 1000}s`;
}
