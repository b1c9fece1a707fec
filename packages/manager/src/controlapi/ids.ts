// Object IDs and generated names.
//
// IDs come from the injected newId() (25 lower-case base-36 characters, like Swarm's);
// names are derived from them, so the handlers stay free of Math.random (STYLE 1) and
// tests get the same names from the same IDs.

// Docker names unnamed services like containers: adjective_surname. Short lists keep the
// names memorable; collisions are resolved by the caller (try another ID).
const ADJECTIVES = [
  'brave', 'calm', 'clever', 'eager', 'fervent', 'gentle', 'happy', 'jolly', 'keen', 'lucid',
  'modest', 'nifty', 'quirky', 'relaxed', 'serene', 'sharp', 'stoic', 'tender', 'vibrant', 'zealous',
] as const;
const SURNAMES = [
  'babbage', 'curie', 'darwin', 'euler', 'fermat', 'gauss', 'hopper', 'kepler', 'lamport', 'liskov',
  'lovelace', 'noether', 'pascal', 'ritchie', 'shannon', 'thompson', 'turing', 'wilkes', 'wing', 'wozniak',
] as const;

/**
 * A service name like `eager_lamport`, derived from an ID. `attempt` > 0 appends digits
 * from the ID (`eager_lamport_4k`) so a retry after a collision differs even when two IDs
 * map to the same words. Always a valid service name.
 */
export function serviceNameFromId(id: string, attempt = 0): string {
  let h = 0;
  for (const c of id) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  const name = `${ADJECTIVES[h % ADJECTIVES.length]}_${SURNAMES[Math.floor(h / ADJECTIVES.length) % SURNAMES.length]}`;
  return attempt === 0 ? name : `${name}_${id.slice(0, 2 + attempt)}`;
}
