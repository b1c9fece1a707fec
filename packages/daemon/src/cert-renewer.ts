import * as grpc from '@grpc/grpc-js';
import { Logger, NodeCAClient } from '@tswarm/api';
import {
  createNodeKeyAndCSR, NODE_CHANNEL_OPTIONS, NodeCredentials, NodeIdentity, NodeRole, renewalDelayMs, renewalRetryDelayMs, TlsIdentity,
} from '@tswarm/ca';

/**
 * setTimeout fires at once (with a warning) beyond 2^31-1 ms (~24.8 days), and renewals
 * are weeks away; so the renewer sleeps at most this long and looks again.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;
/** One RenewNodeCertificate call; signing takes milliseconds, the rest is the network. */
export const RENEW_CALL_TIMEOUT_MS = 10_000;

export interface RenewerTimers {
  nowMs(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemRenewerTimers: RenewerTimers = {
  nowMs: Date.now,
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface CertRenewerDeps {
  /** The node's live identity; the renewer is the only caller of its `update`. */
  credentials: NodeCredentials;
  /** Cluster addresses of managers to ask, in order of preference. */
  managers(): string[];
  /** Persists a renewed identity (NodeKeyStore.save) before it is used. */
  save(tls: TlsIdentity): Promise<void>;
  /** Told after each renewal is saved and swapped in (e.g. to act on a new role). */
  onRenewed?(identity: NodeIdentity): void;
  timers?: RenewerTimers;
  rng?: () => number;
  logger: Logger;
  channelOptions?: grpc.ChannelOptions;
}

/**
 * Keeps this node's certificate fresh: renews at a random point between 50% and 80% of
 * its validity (renewalDelayMs), or at once when asked (`renewNow`, e.g. the node was
 * promoted and needs a manager certificate). A renewal makes a new key and CSR, asks a
 * manager's NodeCA over mTLS with the current certificate (the CA answers with the role
 * the node is meant to have), saves the result and swaps it into the live credentials.
 * Failures are retried with jittered exponential backoff (renewalRetryDelayMs).
 * One renewal at a time; all state is owned by this object on Node's one thread.
 */
export class CertRenewer {
  private readonly timers: RenewerTimers;
  private readonly rng: () => number;
  private timer: unknown;
  /** When the scheduled renewal is due (ms since the epoch); Infinity when none is. */
  private dueAtMs = Infinity;
  private inFlight = false;
  /** A renewNow() that arrived during a renewal: run another one right after. */
  private again: { reason: string; wantRole?: NodeRole } | undefined;
  /** The role the last renewNow asked for; a certificate with another role is retried. */
  private wantRole: NodeRole | undefined;
  private failures = 0;
  private stopped = true;

  constructor(private readonly d: CertRenewerDeps) {
    this.timers = d.timers ?? systemRenewerTimers;
    this.rng = d.rng ?? Math.random;
  }

  /** Schedules the next renewal from the current certificate's validity. */
  start(): void {
    this.stopped = false;
    this.scheduleFromCertificate();
  }

  stop(): void {
    this.stopped = true;
    this.cancel();
  }

  /**
   * Renews as soon as possible. With `wantRole`, keeps retrying until the CA issues that
   * role (a promotion reaches the manager we ask through Raft, maybe a moment later).
   */
  renewNow(reason: string, wantRole?: NodeRole): void {
    if (this.stopped) return;
    if (this.inFlight) {
      this.again = { reason, wantRole };
      return;
    }
    this.wantRole = wantRole;
    this.failures = 0;
    this.d.logger.info('renewing the node certificate now', { reason, role: wantRole ?? this.d.credentials.identity.role });
    this.arm(0);
  }

  /** When the next renewal attempt is due, for status and tests; Infinity when none. */
  get nextRenewalAtMs(): number {
    return this.dueAtMs;
  }

  private scheduleFromCertificate(): void {
    const id = this.d.credentials.identity;
    const now = this.timers.nowMs();
    const delay = renewalDelayMs(id.notBefore, id.notAfter, new Date(now), this.rng);
    this.d.logger.info('node certificate renewal scheduled', {
      role: id.role, expires: id.notAfter.toISOString(), renewAt: new Date(now + delay).toISOString(),
    });
    this.arm(delay);
  }

  private cancel(): void {
    if (this.timer !== undefined) this.timers.clearTimeout(this.timer);
    this.timer = undefined;
    this.dueAtMs = Infinity;
  }

  private arm(delayMs: number): void {
    this.cancel();
    this.dueAtMs = this.timers.nowMs() + delayMs;
    this.wake();
  }

  private wake(): void {
    if (this.stopped) return;
    const left = this.dueAtMs - this.timers.nowMs();
    if (left > 0) {
      this.timer = this.timers.setTimeout(() => this.wake(), Math.min(left, MAX_TIMER_MS));
      return;
    }
    this.timer = undefined;
    this.dueAtMs = Infinity;
    void this.attempt();
  }

  private async attempt(): Promise<void> {
    this.inFlight = true;
    try {
      const identity = await this.renewOnce();
      if (this.stopped) return;
      this.failures = 0;
      this.wantRole = undefined;
      this.d.logger.info('node certificate renewed', { role: identity.role, expires: identity.notAfter.toISOString() });
      try {
        this.d.onRenewed?.(identity);
      } catch (e) {
        this.d.logger.warn('acting on the renewed certificate failed', { error: (e as Error).message });
      }
      if (!this.again) this.scheduleFromCertificate();
    } catch (e) {
      if (this.stopped) return;
      const delay = renewalRetryDelayMs(this.failures++, this.rng);
      const expires = this.d.credentials.identity.notAfter;
      const expired = expires.getTime() <= this.timers.nowMs();
      this.d.logger.warn(
        expired
          ? 'node certificate renewal failed and the certificate has expired; if retries keep failing, run \'tswarm swarm leave --force\' and join again'
          : 'node certificate renewal failed; retrying',
        { error: (e as Error).message, retryInMs: delay, attempt: this.failures, expires: expires.toISOString() },
      );
      if (!this.again) this.arm(delay);
    } finally {
      this.inFlight = false;
      const next = this.again;
      this.again = undefined;
      if (next && !this.stopped) this.renewNow(next.reason, next.wantRole);
    }
  }

  /** One renewal against the first manager that answers. Throws when none does. */
  private async renewOnce(): Promise<NodeIdentity> {
    const current = this.d.credentials.tls;
    const { keyPem, csrPem } = await createNodeKeyAndCSR();
    const managers = [...new Set(this.d.managers())];
    if (managers.length === 0) throw new Error('no manager address known to ask for a certificate');
    const errors: string[] = [];
    for (const addr of managers) {
      if (this.stopped) throw new Error('stopped');
      let certPem: string;
      try {
        certPem = await this.call(addr, csrPem);
      } catch (e) {
        errors.push(`${addr}: ${(e as Error).message}`);
        continue;
      }
      const next: TlsIdentity = { caPem: current.caPem, certPem, keyPem };
      // Check before saving: NodeCredentials.update verifies the set again, and a set that
      // does not belong together must never reach the disk.
      const probe = new NodeCredentials(next).identity;
      if (probe.nodeId !== this.d.credentials.identity.nodeId) throw new Error(`manager ${addr} issued a certificate for node ${probe.nodeId}, not for this node`);
      if (this.wantRole && probe.role !== this.wantRole) {
        // The manager asked has not seen the promotion/demotion yet; keep the old one.
        errors.push(`${addr}: issued a ${probe.role} certificate, waiting for it to issue a ${this.wantRole} one`);
        continue;
      }
      await this.d.save(next);
      this.d.credentials.update(next);
      return probe;
    }
    throw new Error(errors.join('; '));
  }

  private call(addr: string, csrPem: string): Promise<string> {
    const client = new NodeCAClient(addr, this.d.credentials.client({ expectRole: 'manager' }), this.d.channelOptions ?? NODE_CHANNEL_OPTIONS);
    return new Promise<string>((resolve, reject) => {
      client.renewNodeCertificate({ csrPem }, new grpc.Metadata(), { deadline: Date.now() + RENEW_CALL_TIMEOUT_MS }, (err, res) => {
        client.close();
        if (err) reject(new Error(err.details || err.message));
        else resolve(res.certificatePem);
      });
    });
  }
}
