// nft script building blocks shared by the planners. Pure: strings in, strings out.
//
// Every script is fed to one `nft -f -`, which applies it as one transaction: either all of
// it takes effect or none, so a chain is never seen half rewritten.

/** Removes table `<family> <table>` if it exists (creating it first so the delete cannot fail). */
export function dropTableScript(table: string, family: 'ip' | 'bridge' = 'ip'): string {
  return `table ${family} ${table} {}\ndelete table ${family} ${table}\n`;
}

/** Replaces table `<family> <table>` wholesale: dropped, then written anew, in one transaction. */
export function replaceTableScript(table: string, body: readonly string[], after: readonly string[] = [], family: 'ip' | 'bridge' = 'ip'): string {
  return dropTableScript(table, family) + [`table ${family} ${table} {`, ...body.map((l) => `  ${l}`), '}', ...after].join('\n') + '\n';
}

/** A chain block for use inside a table body; `head` is e.g. "type nat hook output priority -100; policy accept;". */
export function chainBlock(name: string, rules: readonly string[], head?: string): string[] {
  return [`chain ${name} {`, ...(head ? [`  ${head}`] : []), ...rules.map((r) => `  ${r}`), '}'];
}

/** Flush-and-refill of one existing chain of table `<family> <table>`. */
export function rewriteChainLines(table: string, chain: string, rules: readonly string[], family: 'ip' | 'bridge' = 'ip'): string[] {
  const t = `${family} ${table}`;
  return [`flush chain ${t} ${chain}`, ...rules.map((r) => `add rule ${t} ${chain} ${r}`)];
}

/**
 * The DNAT statement spreading new connections uniformly over `backends` (IPv4 addresses):
 * `numgen random mod N` picks one per connection; conntrack keeps the choice for its life
 * and reverses it for replies. With `port`, the destination port is rewritten too.
 * Undefined when there is no backend: the caller decides how to refuse.
 */
export function dnatSpread(backends: readonly string[], port?: number): string | undefined {
  if (backends.length === 0) return undefined;
  if (backends.length === 1) return port === undefined ? `dnat to ${backends[0]}` : `dnat to ${backends[0]}:${port}`;
  const n = backends.length;
  if (port === undefined) return `dnat to numgen random mod ${n} map { ${backends.map((b, i) => `${i} : ${b}`).join(', ')} }`;
  return `dnat ip to numgen random mod ${n} map { ${backends.map((b, i) => `${i} : ${b} . ${port}`).join(', ')} }`;
}

export function sameLines(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (!a || !b || a.length !== b.length) return false;
  return a.every((x, i) => x === b[i]);
}
