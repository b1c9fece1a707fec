// The pure core of the resolver: a question and the names the asking client sees in, an answer
// (or "forward it upstream") out. No sockets, no clock; randomness (dnsrr order) is injected.
import { normalizeName, type AnswerRecord, type ClientNames, type NameTable } from './name-table.js';

/**
 * TTL of every swarm record: 0, i.e. "use for this transaction only, do not cache"
 * (RFC 1035 §3.2.1, RFC 2181 §8). After a scale or rm the names must be right within 1 s on every
 * host, and most of that second is already spent getting the new view to the node. glibc and
 * busybox do not cache, but caching stubs in containers (systemd-resolved, dnsmasq, nscd, Go or
 * Node resolvers with caches) honour TTLs, and any TTL ≥ 1 s would let them serve a removed task's
 * address for up to that long on top of the propagation time. Re-asking costs nothing worth
 * saving: the resolver is on the same host and answers from a precomputed map. Negative answers
 * carry no SOA, so they are not cached either (RFC 2308 §5).
 */
export const RECORD_TTL_S = 0;

/** Response codes (RFC 1035 §4.1.1). */
export const RCODE = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
} as const;
export type Rcode = (typeof RCODE)[keyof typeof RCODE];

export interface Question {
  /** As asked: any case, with or without the trailing dot. */
  readonly name: string;
  /** Record type mnemonic as dns-packet decodes it: 'A', 'AAAA', 'PTR', 'ANY', 'UNKNOWN_65', … */
  readonly type: string;
  /** 'IN' when omitted. */
  readonly class?: string;
}

/** An authoritative answer for a swarm name. Every record is for the question's name. */
export interface Answer {
  readonly rcode: Rcode;
  readonly answers: readonly AnswerRecord[];
}

/** Not a swarm name: ask the upstream resolvers. */
export type Forward = 'forward';

const NO_RECORDS: readonly AnswerRecord[] = [];
const NXDOMAIN: Answer = { rcode: RCODE.NXDOMAIN, answers: NO_RECORDS };
const NODATA: Answer = { rcode: RCODE.NOERROR, answers: NO_RECORDS };

/**
 * Answers `question` for a client on `networkIds`, from `table`.
 * - A known name: its A records (or PTR for a reverse name); any other type → NOERROR with no
 *   records (NODATA), never NXDOMAIN, or a resolver asking AAAA first would give up on the A.
 * - An unknown name in the swarm's own namespace — a single label, or `tasks.<label>` — →
 *   NXDOMAIN at once: service names are DNS labels, so nobody else can answer them.
 * - Any other unknown name → 'forward'.
 * `random` returns [0, 1) and orders dnsrr answers.
 */
export function answerQuery(
  question: Question,
  networkIds: readonly string[],
  table: NameTable,
  random: () => number,
): Answer | Forward {
  return answerFromNames(question, table.namesFor(networkIds), random);
}

/** answerQuery with the client's names already merged (the server keeps them per client). */
export function answerFromNames(question: Question, names: ClientNames, random: () => number): Answer | Forward {
  const name = normalizeName(question.name);
  const cls = question.class ?? 'IN';
  const entry = cls === 'IN' || cls === 'ANY' ? names.get(name) : undefined;
  if (!entry) return isSwarmNamespace(name) ? NXDOMAIN : 'forward';
  let records: readonly AnswerRecord[];
  switch (question.type) {
    case 'A': records = entry.a; break;
    case 'PTR': records = entry.ptr; break;
    case 'ANY': records = entry.ptr.length === 0 ? entry.a : [...entry.a, ...entry.ptr]; break;
    default: return NODATA;
  }
  if (records.length === 0) return NODATA;
  return { rcode: RCODE.NOERROR, answers: entry.shuffle && records.length > 1 ? shuffled(records, random) : records };
}

/**
 * Names only the swarm can answer: one label (a service, an alias) or `tasks.<label>`. Names
 * are normalized. The root (empty name) is not one of them.
 */
export function isSwarmNamespace(name: string): boolean {
  if (name.length === 0) return false;
  const dot = name.indexOf('.');
  if (dot < 0) return true;
  return dot === 5 && name.startsWith('tasks.') && name.indexOf('.', 6) < 0 && name.length > 6;
}

/** Fisher–Yates on a copy. */
function shuffled<T>(xs: readonly T[], random: () => number): T[] {
  const out = xs.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = out[i]!;
    out[i] = out[j]!;
    out[j] = t;
  }
  return out;
}
