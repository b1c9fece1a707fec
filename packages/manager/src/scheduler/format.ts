// Human forms for scheduler messages: "4 GiB memory", "2 CPUs", "1 node", "3 nodes".

const KIB = 1024;
const MIB = 1024 * KIB;
const GIB = 1024 * MIB;
const NANO_CPUS_PER_CPU = 1e9; // Docker counts CPU in billionths of a core

/** At most two decimals, trailing zeros dropped: 1.5, 0.25, 2. */
function short(n: number): string {
  return String(Math.round(n * 100) / 100);
}

/** Bytes in the largest binary unit that keeps the number >= 1: "4 GiB", "512 MiB", "100 B". */
export function formatBytes(bytes: number): string {
  if (bytes >= GIB) return `${short(bytes / GIB)} GiB`;
  if (bytes >= MIB) return `${short(bytes / MIB)} MiB`;
  if (bytes >= KIB) return `${short(bytes / KIB)} KiB`;
  return `${bytes} B`;
}

/** Nano-CPUs as cores: "1 CPU", "2 CPUs", "0.5 CPUs". */
export function formatCpus(nanoCpus: number): string {
  const cpus = nanoCpus / NANO_CPUS_PER_CPU;
  return `${short(cpus)} ${cpus === 1 ? 'CPU' : 'CPUs'}`;
}

/** "1 node lacks" / "2 nodes lack": picks the singular or plural phrase by count. */
export function nodePhrase(n: number, singular: string, plural: string): string {
  return n === 1 ? `1 node ${singular}` : `${n} nodes ${plural}`;
}
