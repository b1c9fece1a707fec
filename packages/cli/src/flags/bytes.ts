import { BadValue } from './parse.js';

/** 1024-based multipliers, as Docker's RAMInBytes (go-units) reads memory sizes. */
const MULT: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/**
 * Memory sizes like Docker's --limit-memory: "512m", "1.5g", "1GiB", "1024", "100 kb".
 * Units are binary whatever their spelling (k = KiB), as in RAMInBytes.
 */
export function parseBytes(v: string): number {
  const m = /^(\d+(?:\.\d+)?) ?([kKmMgGtTpP]?)([iI]?[bB]?)$/.exec(v);
  if (!m || (m[2] === '' && /^[iI]/.test(m[3]!))) throw new BadValue('expected a size such as 512m, 1g or 1073741824 (units b, k, m, g, t)');
  const n = Math.floor(Number(m[1]) * MULT[m[2]!.toLowerCase()]!);
  if (!Number.isSafeInteger(n)) throw new BadValue('size too large');
  return n;
}

/**
 * CPUs as a decimal ("0.5", "2") into nano-CPUs, the wire unit. Like Docker's NanoCPUs
 * option, more precision than one nano-CPU is an error rather than silently rounded.
 */
export function parseNanoCpus(v: string): number {
  const m = /^(\d*)(?:\.(\d*))?$/.exec(v);
  if (!m || (m[1] === '' && !m[2])) throw new BadValue('expected a number of CPUs such as 0.5 or 2');
  const frac = m[2] ?? '';
  if (frac.replace(/0+$/, '').length > 9) throw new BadValue('value is too precise (at most 9 decimals)');
  const n = Number(m[1] || '0') * 1e9 + Number(frac.padEnd(9, '0').slice(0, 9));
  if (!Number.isSafeInteger(n)) throw new BadValue('too many CPUs');
  return n;
}
