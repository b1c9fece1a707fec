/**
 * Tables and the small text conventions of Docker's CLI (cli/command/formatter): columns laid
 * out as Go's tabwriter with minwidth 10, padding 3, the last column unpadded; 12-character
 * IDs; "3 seconds ago"; `--format json` as one JSON object per line with sorted keys.
 */

const MIN_WIDTH = 10; // Docker: tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)
const PADDING = 3;

/** Rows of cells (header first) → lines, each cell padded to max(longest + 3, 10). */
export function table(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, Math.max(c.length + PADDING, MIN_WIDTH))));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join(''));
}

export function truncateId(id: string): string {
  return id.slice(0, 12);
}

/** Docker's Ellipsis: at most `max` characters, the last one "…" when cut. */
export function ellipsis(s: string, max: number): string {
  const chars = [...s];
  return chars.length <= max ? s : chars.slice(0, max - 1).join('') + '…';
}

/** go-units HumanDuration: "Less than a second", "5 seconds", "About a minute", "3 hours", "2 weeks". */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(seconds / 60);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.floor(ms / 3_600_000 + 0.5);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(ms / 3_600_000 / 24 / 365)} years`;
}

/** An enum's wire name as a word: ("NODE_STATE_READY", "NODE_STATE_") → "ready". */
export function enumWord(jsonName: string, prefix: string): string {
  return jsonName.startsWith(prefix) ? jsonName.slice(prefix.length).toLowerCase().replace(/_/g, '-') : jsonName.toLowerCase();
}

/** Docker's PrettyPrint: first letter upper-case ("running" → "Running"). */
export function capitalize(s: string): string {
  return s ? s[0]!.toUpperCase() + s.slice(1) : s;
}

/** Map entries by key, as Go orders map keys in its JSON and templates (plain string order). */
export function byKey([a]: [string, unknown], [b]: [string, unknown]): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One JSON object per line, keys sorted, as `docker … ls --format json` prints rows. */
export function jsonLines(rows: Array<Record<string, unknown>>): string[] {
  return rows.map((r) => JSON.stringify(Object.fromEntries(Object.entries(r).sort(byKey))));
}

/** Natural order ("web-2" before "web-10"), as Docker sorts names with sortorder.NaturalLess. */
export function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true, sensitivity: 'variant' });
}
