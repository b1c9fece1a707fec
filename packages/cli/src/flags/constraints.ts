import { BadValue } from './parse.js';

/**
 * Placement constraints as swarmkit reads them: `KEY==VALUE` or `KEY!=VALUE` where KEY is
 * node.id, node.hostname, node.role, node.platform.os, node.platform.arch,
 * node.labels.NAME or engine.labels.NAME. Checked here so a typo ("node.hostname=h1",
 * "node.lables.zone") fails at once instead of leaving every task pending.
 */
const FIXED_KEYS = ['node.id', 'node.hostname', 'node.role', 'node.platform.os', 'node.platform.arch'];

export function parseConstraint(v: string): string {
  const m = /^\s*([^=!\s]+)\s*(==|!=)\s*(.+?)\s*$/.exec(v);
  if (!m) throw new BadValue('expected KEY==VALUE or KEY!=VALUE, e.g. node.role==manager');
  const key = m[1]!;
  const known = FIXED_KEYS.includes(key.toLowerCase()) || /^(node|engine)\.labels\.[^.\s].*$/.test(key);
  if (!known) throw new BadValue(`unknown constraint key "${key}"; use node.id, node.hostname, node.role, node.platform.os, node.platform.arch, node.labels.NAME or engine.labels.NAME`);
  if (key.toLowerCase() === 'node.role' && !['manager', 'worker'].includes(m[3]!.toLowerCase())) {
    throw new BadValue(`node.role can only be "manager" or "worker"`);
  }
  return v.trim();
}
