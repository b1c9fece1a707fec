// Simulated KV clients. Each has one operation in flight at a time and sends
// it to a random node (clients do not know the leader; followers forward).
// The history they record is what the linearizability checker judges:
//
// - put acknowledged            → [call, return]
// - put refused at once         → not recorded: it never entered any log
// - put timed out / conn reset  → [call, Infinity]: it may or may not commit
// - get answered                → [call, return] with the value
// - get failed or timed out     → not recorded: a read without a result
//   constrains nothing (recording it as pending would only slow the search)
//
// Put values are unique ("client.request"), so a read names the write it saw.

import type { EventQueue } from './eventQueue.js';
import type { KvOperation } from './kvModel.js';
import { encodePut } from './kvStateMachine.js';
import type { Rng } from './rng.js';
import type { SimNode } from './simNode.js';
import type { Trace } from './trace.js';

export interface ClientEnv {
  q: EventQueue;
  trace: Trace;
  nodes: readonly SimNode[];
  keys: readonly string[];
  unsafeLocalReads: boolean;
  /** A client gives up on an op after this long. */
  timeoutMs: number;
  /** Pause between a client's ops, uniform in [0, maxThinkMs]. */
  maxThinkMs: number;
  readRatio: number;
  history: KvOperation[];
}

type Outcome = { kind: 'putOk' } | { kind: 'unknown' } | { kind: 'refused' } | { kind: 'read'; value: string } | { kind: 'readFailed' };

export class Client {
  private requestId = 0;
  private stopped = false;
  private inFlight: ((o: Outcome) => void) | null = null;
  /** Virtual time of the latest acknowledged put, for the liveness check. */
  lastPutOkMs = -1;
  lastPutOkCallMs = -1;

  constructor(readonly id: number, private readonly env: ClientEnv, private readonly rng: Rng) {}

  start(): void {
    this.scheduleNext();
  }

  /** Stops issuing; an op still in flight is settled as timed out. */
  stop(): void {
    this.stopped = true;
    this.inFlight?.({ kind: 'unknown' });
  }

  private scheduleNext(): void {
    if (this.stopped) return;
    this.env.q.after(this.rng.int(0, this.env.maxThinkMs), () => this.issue());
  }

  private issue(): void {
    if (this.stopped) return;
    const env = this.env;
    const node = this.rng.pick(env.nodes);
    const key = this.rng.pick(env.keys);
    const requestId = ++this.requestId;
    const callMs = env.q.nowMs;
    const isRead = this.rng.chance(env.readRatio);
    const value = `${this.id}.${requestId}`;
    let settled = false;
    const settle = (o: Outcome): void => {
      if (settled) return;
      settled = true;
      this.inFlight = null;
      const now = env.q.nowMs;
      env.trace.note(now, `c${this.id}:${requestId}:${o.kind}`, () =>
        `client ${this.id} ${isRead ? `get(${key})` : `put(${key}, ${value})`} via ${node.id}: ${o.kind}` +
        (o.kind === 'read' ? ` '${o.value}'` : ''));
      if (isRead) {
        if (o.kind === 'read') {
          env.history.push({ clientId: this.id, input: { kind: 'get', key }, output: { kind: 'value', value: o.value }, call: callMs, return: now });
        } else if (o.kind === 'unknown') {
          node.cancelRead(this.id, requestId); // timed out: the read simply did not happen
        }
      } else if (o.kind === 'putOk' || o.kind === 'unknown') {
        if (o.kind === 'unknown') node.cancelPut(this.id, requestId);
        else {
          this.lastPutOkMs = now;
          this.lastPutOkCallMs = callMs;
        }
        env.history.push({
          clientId: this.id, input: { kind: 'put', key, value }, output: { kind: 'ok' },
          call: callMs, return: o.kind === 'putOk' ? now : Infinity,
        });
      }
      this.scheduleNext();
    };
    this.inFlight = settle;
    env.trace.note(callMs, `i${this.id}:${requestId}:${node.id}`, () =>
      `client ${this.id} calls ${isRead ? `get(${key})` : `put(${key}, ${value})`} via ${node.id}`);
    const accepted = isRead
      ? node.read(this.id, requestId, key, env.unsafeLocalReads, (v) => settle(v === undefined ? { kind: 'readFailed' } : { kind: 'read', value: v }))
      : node.propose({ clientId: this.id, requestId, key, value }, encodePut({ clientId: this.id, requestId, key, value }),
        (ok) => settle(ok ? { kind: 'putOk' } : { kind: 'unknown' }));
    if (!accepted) {
      settle({ kind: 'refused' });
      return;
    }
    env.q.after(env.timeoutMs, () => settle({ kind: 'unknown' }));
  }
}
