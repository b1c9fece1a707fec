import { usageError } from '../errors.js';

/**
 * Flag value parsers for commander's `argParser`. Each runs while the command line is parsed,
 * before any action and so before any RPC: a bad value stops the command with one line and
 * exit 125 and nothing is sent. The reason is worded for a person, not as Go's
 * `strconv.ParseUint: parsing "abc": invalid syntax`.
 */

/** The "why" half of a flag error; `flagParser` adds which flag and which value. */
export class BadValue extends Error {}

/** `invalid argument "abc" for "--replicas" flag: expected a whole number ≥ 0`, as Docker words it. */
export function flagError(flag: string, value: string, reason: string) {
  return usageError(`invalid argument "${value}" for "${flag}" flag: ${reason}`);
}

/** Wraps a parser so that a BadValue becomes the one-line usage error naming the flag. */
export function flagParser<T>(flag: string, parse: (v: string) => T): (v: string) => T {
  return (v: string) => {
    try {
      return parse(v);
    } catch (e) {
      if (e instanceof BadValue) throw flagError(flag, v, e.message);
      throw e;
    }
  };
}

/** A repeatable flag: every occurrence is parsed and appended, in command-line order. */
export function repeatable<T>(flag: string, parse: (v: string) => T): (v: string, prev: T[] | undefined) => T[] {
  const one = flagParser(flag, parse);
  return (v, prev) => [...(prev ?? []), one(v)];
}

export function parseUint(v: string): number {
  if (!/^\d+$/.test(v)) throw new BadValue('expected a whole number (0, 1, 2, …)');
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new BadValue('number too large');
  return n;
}

export function parseFloatValue(v: string): number {
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(v)) throw new BadValue('expected a decimal number such as 0.2');
  return Number(v);
}

/** A ratio for --update-max-failure-ratio: a decimal in [0, 1]. */
export function parseRatio(v: string): number {
  const n = parseFloatValue(v);
  if (n < 0 || n > 1) throw new BadValue('expected a ratio between 0 and 1');
  return n;
}

/** One of a fixed set of words, compared case-insensitively like Docker does for modes. */
export function oneOf<T extends string>(choices: readonly T[]): (v: string) => T {
  return (v: string) => {
    const w = v.toLowerCase() as T;
    if (!choices.includes(w)) throw new BadValue(`expected ${choices.map((c) => `"${c}"`).join(', ')}`);
    return w;
  };
}

/** `key=value` or a bare `key` (value ""), for labels. The key may not be empty. */
export function parseKeyValue(v: string): [string, string] {
  const i = v.indexOf('=');
  const key = i < 0 ? v : v.slice(0, i);
  if (key.trim() === '') throw new BadValue('expected key=value with a non-empty key');
  return [key, i < 0 ? '' : v.slice(i + 1)];
}

/**
 * `KEY=VALUE`, or a bare `KEY` that takes its value from the CLI's own environment when set
 * (Docker's ValidateEnv does the same; unset, it is sent as the bare name).
 */
export function parseEnv(v: string): string {
  const i = v.indexOf('=');
  const key = i < 0 ? v : v.slice(0, i);
  if (key === '' || /\s/.test(key)) throw new BadValue('expected KEY=VALUE with a variable name without spaces');
  if (i < 0 && process.env[key] !== undefined) return `${key}=${process.env[key]}`;
  return v;
}

/** A non-empty word: names, network targets, images. */
export function parseNonEmpty(v: string): string {
  if (v.trim() === '') throw new BadValue('may not be empty');
  return v;
}

/** A TCP/UDP port number, 1–65535 (0 allowed where `allowZero`, meaning "pick one"). */
export function parsePort(v: string, allowZero = false): number {
  if (!/^\d+$/.test(v)) throw new BadValue(`"${v}" is not a port number`);
  const n = Number(v);
  if (n > 65535 || (n === 0 && !allowZero)) throw new BadValue(`port ${v} is out of range (1-65535)`);
  return n;
}

/** Splits `--args "a 'b c' d"` the way a shell would: whitespace, single and double quotes, backslash. */
export function shellSplit(v: string): string[] {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && i + 1 < v.length) cur += v[++i];
      else cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < v.length) {
      cur += v[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur);
      cur = '';
      inWord = false;
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw new BadValue('unterminated quote');
  if (inWord) words.push(cur);
  return words;
}
