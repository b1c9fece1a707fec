/** Sizes the way Docker prints them (go-units BytesSize): 1024-based, four significant digits, e.g. "7.704GiB", "23.54GiB". */
export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${Number(v.toPrecision(4))}${units[i]}`;
}

/** Aligns `label: value` rows into Docker's ` Label:   value` columns under a heading. */
export function section(indent: string, rows: Array<[string, string]>): string[] {
  const width = Math.max(...rows.map(([k]) => k.length)) + 1;
  return rows.map(([k, v]) => `${indent}${`${k}:`.padEnd(width)} ${v}`);
}

/** Docker info's unaligned ` Label: value` rows. */
export function keyValues(indent: string, rows: Array<[string, string]>): string[] {
  return rows.map(([k, v]) => `${indent}${k}: ${v}`);
}
