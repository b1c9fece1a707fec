// Linearizability checker for client histories, after Porcupine
// (anishathalye/porcupine): the Wing & Gong search with Lowe's memoisation.
//
// A history is a set of operations, each with a call and a return time. The
// search walks the calls in time order and "linearizes" one whose step is legal
// in the sequential model, removing it and its return from the list; when it
// meets a return whose call has not been linearized it backtracks. A cache of
// (set of linearized ops, model state) pairs prunes configurations already
// explored — two paths that linearized the same ops and reached the same state
// have the same future. Partitioning (per key for a KV store) splits one
// exponential search into many small ones.
//
// Time intervals are closed: [call, return]. An op whose client never saw the
// outcome (timeout, crash) is recorded with return = Infinity: it may take
// effect at any point after its call, or never (linearized after everything).
//
// The search is deterministic. Its budget is counted in steps, so a seed of the
// simulator gets the same verdict on every machine; an optional wall-clock
// timeout is for interactive use only.

export interface Operation<I, O> {
  clientId: number;
  input: I;
  output: O;
  /** Logical time the client issued the op. */
  call: number;
  /** Logical time the client saw the result; Infinity when it never did. */
  return: number;
}

/** A sequential specification. step must not mutate its arguments. */
export interface Model<S, I, O> {
  init(): S;
  /** The state after applying input with this output, or undefined if the output is impossible. */
  step(state: S, input: I, output: O): S | undefined;
  equal(a: S, b: S): boolean;
  /** Must agree with equal: equal states have equal hashes. 32-bit integer. */
  hash(state: S): number;
  /** Split a history so that it is linearizable iff every part is. */
  partition?(history: readonly Operation<I, O>[]): Operation<I, O>[][];
  describeOperation?(input: I, output: O): string;
  describeState?(state: S): string;
}

export type CheckResult = 'ok' | 'illegal' | 'unknown';

export interface PartitionReport<I, O> {
  result: CheckResult;
  ops: Operation<I, O>[];
  /**
   * Indices into ops of the longest linearizable prefix found. A complete
   * linearization when result is 'ok'; where the search got stuck otherwise.
   */
  longest: number[];
  steps: number;
}

export interface CheckReport<I, O> {
  result: CheckResult;
  partitions: PartitionReport<I, O>[];
  steps: number;
}

export interface CheckOptions {
  /** Total search steps over all partitions before answering 'unknown'. */
  maxSteps?: number;
  /** Optional wall-clock limit (non-deterministic; not for the simulator). */
  timeoutMs?: number;
}

/** Generous enough for the simulator's per-key histories, small enough to never hang CI. */
export const DEFAULT_MAX_STEPS = 20_000_000;

export function checkOperations<S, I, O>(
  model: Model<S, I, O>,
  history: readonly Operation<I, O>[],
  opts: CheckOptions = {},
): CheckReport<I, O> {
  const parts = model.partition ? model.partition(history) : [history.slice()];
  const budget = { steps: opts.maxSteps ?? DEFAULT_MAX_STEPS, deadline: Infinity };
  if (opts.timeoutMs !== undefined) budget.deadline = Date.now() + opts.timeoutMs;
  const reports: PartitionReport<I, O>[] = [];
  let result: CheckResult = 'ok';
  let steps = 0;
  for (const ops of parts) {
    const r = checkSingle(model, ops, budget);
    reports.push(r);
    steps += r.steps;
    // An illegal partition settles the verdict: stop spending budget.
    if (r.result === 'illegal') return { result: 'illegal', partitions: reports, steps };
    if (r.result === 'unknown') result = 'unknown';
  }
  return { result, partitions: reports, steps };
}

/** One event of the doubly linked list the search walks. */
interface ListNode {
  /** Index of the op in the partition. */
  id: number;
  /** For a call: its return node. For a return: null. */
  match: ListNode | null;
  prev: ListNode | null;
  next: ListNode | null;
}

function buildList<I, O>(ops: readonly Operation<I, O>[]): ListNode {
  interface Ev { id: number; time: number; isCall: boolean }
  const evs: Ev[] = [];
  ops.forEach((op, id) => {
    if (!(op.return >= op.call)) throw new Error(`op ${id} returns (${op.return}) before its call (${op.call})`);
    evs.push({ id, time: op.call, isCall: true }, { id, time: op.return, isCall: false });
  });
  // Calls sort before returns at equal times: intervals are closed, so ops
  // that touch at one instant are concurrent. Ties otherwise keep id order.
  evs.sort((a, b) => a.time - b.time || (a.isCall === b.isCall ? a.id - b.id : a.isCall ? -1 : 1));
  const head: ListNode = { id: -1, match: null, prev: null, next: null };
  const returns = new Map<number, ListNode>();
  let tail = head;
  // Create return nodes first so calls can point at them.
  for (const e of evs) if (!e.isCall) returns.set(e.id, { id: e.id, match: null, prev: null, next: null });
  for (const e of evs) {
    const n: ListNode = e.isCall
      ? { id: e.id, match: returns.get(e.id)!, prev: null, next: null }
      : returns.get(e.id)!;
    n.prev = tail;
    tail.next = n;
    tail = n;
  }
  return head;
}

/** Unlinks a call and its return; both keep their own pointers for unlift. */
function lift(call: ListNode): void {
  call.prev!.next = call.next;
  call.next!.prev = call.prev;
  const ret = call.match!;
  ret.prev!.next = ret.next;
  if (ret.next) ret.next.prev = ret.prev;
}

/** Exact inverse of lift; valid because lifts are undone in stack order. */
function unlift(call: ListNode): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next) ret.next.prev = ret;
  call.prev!.next = call;
  call.next!.prev = call;
}

class Bitset {
  readonly words: Uint32Array;
  constructor(bits: number, words?: Uint32Array) {
    this.words = words ?? new Uint32Array(Math.ceil(bits / 32) || 1);
  }
  set(i: number): void { this.words[i >>> 5] |= 1 << (i & 31); }
  clear(i: number): void { this.words[i >>> 5] &= ~(1 << (i & 31)); }
  clone(): Bitset { return new Bitset(0, this.words.slice()); }
  equal(o: Bitset): boolean {
    for (let i = 0; i < this.words.length; i++) if (this.words[i] !== o.words[i]) return false;
    return true;
  }
  hash(): number {
    let h = 0x811c9dc5;
    for (let i = 0; i < this.words.length; i++) h = Math.imul(h ^ this.words[i], 0x01000193);
    return h >>> 0;
  }
}

interface Budget { steps: number; deadline: number }

function checkSingle<S, I, O>(model: Model<S, I, O>, ops: Operation<I, O>[], budget: Budget): PartitionReport<I, O> {
  const head = buildList(ops);
  const linearized = new Bitset(ops.length);
  const cache = new Map<number, { bits: Bitset; state: S }[]>();
  const calls: { node: ListNode; state: S }[] = [];
  let longest: number[] = [];
  let state = model.init();
  let node = head.next;
  let steps = 0;
  const report = (result: CheckResult): PartitionReport<I, O> => {
    budget.steps -= steps;
    return { result, ops, longest, steps };
  };
  while (head.next !== null) {
    steps++;
    if (steps >= budget.steps) return report('unknown');
    if ((steps & 0xfff) === 0 && Date.now() > budget.deadline) return report('unknown');
    // node is never null here: every call is followed by its own return, and
    // reaching a return always backtracks or fails.
    const cur = node!;
    if (cur.match !== null) {
      const op = ops[cur.id];
      const next = model.step(state, op.input, op.output);
      if (next !== undefined) {
        linearized.set(cur.id);
        const key = (linearized.hash() ^ model.hash(next)) >>> 0;
        const bucket = cache.get(key);
        const seen = bucket?.some((c) => c.bits.equal(linearized) && model.equal(c.state, next)) ?? false;
        if (!seen) {
          const entry = { bits: linearized.clone(), state: next };
          if (bucket) bucket.push(entry);
          else cache.set(key, [entry]);
          calls.push({ node: cur, state });
          state = next;
          lift(cur);
          node = head.next;
          continue;
        }
        linearized.clear(cur.id);
      }
      node = cur.next;
    } else {
      // A return whose call is still in the list: no legal op fits before it.
      if (calls.length > longest.length) longest = calls.map((c) => c.node.id);
      if (calls.length === 0) return report('illegal');
      const top = calls.pop()!;
      state = top.state;
      linearized.clear(top.node.id);
      unlift(top.node);
      node = top.node.next;
    }
  }
  longest = calls.map((c) => c.node.id);
  return report('ok');
}

/** A human-readable account of why a history failed, for --verbose and test output. */
export function explain<S, I, O>(model: Model<S, I, O>, report: CheckReport<I, O>, maxOps = 60): string {
  const bad = report.partitions.find((p) => p.result !== 'ok');
  if (!bad) return 'linearizable';
  const desc = (op: Operation<I, O>): string =>
    model.describeOperation ? model.describeOperation(op.input, op.output) : JSON.stringify([op.input, op.output]);
  const t = (x: number): string => (x === Infinity ? 'inf' : String(x));
  const lines = [`partition ${bad.result} (${bad.ops.length} ops, ${bad.steps} steps):`];
  const order = bad.ops.map((_, i) => i).sort((a, b) => bad.ops[a].call - bad.ops[b].call || a - b);
  for (const i of order.slice(0, maxOps)) {
    const op = bad.ops[i];
    lines.push(`  #${i} client ${op.clientId} [${t(op.call)}, ${t(op.return)}] ${desc(op)}`);
  }
  if (order.length > maxOps) lines.push(`  ... ${order.length - maxOps} more`);
  let state = model.init();
  const prefix: string[] = [];
  for (const i of bad.longest) {
    const next = model.step(state, bad.ops[i].input, bad.ops[i].output);
    if (next === undefined) break;
    state = next;
    prefix.push(`#${i}`);
  }
  lines.push(`  longest linearizable prefix: ${prefix.join(' ') || '(none)'}`);
  if (model.describeState) lines.push(`  state after it: ${model.describeState(state)}`);
  return lines.join('\n');
}
