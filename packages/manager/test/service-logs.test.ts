// `service logs` on a manager that is not the leader: it forwards to the leader's cluster
// port (ManagerLogs) and relays the stream, `-f` until the client cancels, and ends with one
// line when the leadership changes. Two gRPC servers on 127.0.0.1 stand in for two managers;
// a metadata header stands in for the mTLS manager certificate.
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { ControlClient, ControlService, LogMessage, ManagerLogsClient, ManagerLogsService, silentLogger, waitUntil } from '@tswarm/api';
import { StatusError } from '@tswarm/ca';
import { leaderChangedMessage, NO_LEADER_MESSAGE, serviceLogsHandlers, type LogStream, type LogSubscribeOptions, type ServiceLogsDeps } from '../src/index.js';

const ROLE_HEADER = 'x-test-role';

/** A dispatcher log stream the test feeds by hand. */
class FakeStream implements LogStream {
  readonly id = 'sub-1';
  closed = false;
  private buf: LogMessage[] = [];
  private waiter: ((r: IteratorResult<LogMessage>) => void) | undefined;
  private failure: Error | undefined;
  private ended = false;

  push(text: string): void {
    const m: LogMessage = { taskId: 't1', nodeId: 'n1', slot: 1, timestampMs: 1, stderr: false, data: Buffer.from(text) };
    if (this.waiter) this.takeWaiter()({ value: m, done: false });
    else this.buf.push(m);
  }
  end(err?: Error): void {
    this.ended = true;
    this.failure = err;
    this.waiter && this.takeWaiter()({ value: undefined, done: true });
  }
  close(): void {
    this.closed = true;
    this.end();
  }
  private takeWaiter() {
    const w = this.waiter!;
    this.waiter = undefined;
    return w;
  }
  [Symbol.asyncIterator](): AsyncIterator<LogMessage> {
    return {
      next: () => {
        if (this.buf.length) return Promise.resolve({ value: this.buf.shift()!, done: false });
        if (this.failure) return Promise.reject(this.failure);
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => (this.waiter = resolve));
      },
    };
  }
}

interface FakeManager {
  addr: string;
  deps: ServiceLogsDeps;
  streams: FakeStream[];
  subscribed: LogSubscribeOptions[];
  setLeader(id: string, address?: string): void;
  /** What the dispatcher does when leadership moves: stop collecting, end every stream with UNAVAILABLE. */
  stopLeading(): void;
  server: grpc.Server;
}

async function startManager(leading: boolean): Promise<FakeManager> {
  const streams: FakeStream[] = [];
  const subscribed: LogSubscribeOptions[] = [];
  let leader = { id: '', address: undefined as string | undefined };
  const listeners = new Set<(id: string) => void>();
  const server = new grpc.Server();
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  const addr = `127.0.0.1:${port}`;
  const source = {
    running: leading,
    subscribeLogs: (o: LogSubscribeOptions) => {
      subscribed.push(o);
      const s = new FakeStream();
      streams.push(s);
      return s;
    },
  };
  const deps: ServiceLogsDeps = {
    resolveService: async (ref) => {
      if (ref === 'web' || ref === 'svc-web') return 'svc-web';
      throw new StatusError(grpc.status.NOT_FOUND, `service ${ref} not found`);
    },
    logs: source,
    selfAddr: addr,
    leader: () => leader,
    onLeaderChange: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
    dialLeader: (address) => new ManagerLogsClient(address, grpc.credentials.createInsecure()),
    authorize: (call) => {
      if (call.metadata.get(ROLE_HEADER)[0] !== 'manager') throw new StatusError(grpc.status.PERMISSION_DENIED, 'permission denied: this call needs a manager certificate');
    },
    logger: silentLogger,
  };
  const h = serviceLogsHandlers(deps);
  server.addService(ControlService, { serviceLogs: h.local } as never);
  server.addService(ManagerLogsService, h.cluster);
  return {
    addr, deps, streams, subscribed, server,
    setLeader: (lid, address) => {
      leader = { id: lid, address };
      for (const l of [...listeners]) l(lid);
    },
    stopLeading: () => {
      source.running = false;
      for (const st of streams) st.end(new StatusError(grpc.status.UNAVAILABLE, 'this manager stopped dispatching (leadership moved); reconnect to another manager'));
    },
  };
}

/** Runs `service logs` against a manager's local handler; collects lines until it ends. */
function logs(m: FakeManager, req: { serviceId: string; follow?: boolean }) {
  const client = new ControlClient(m.addr, grpc.credentials.createInsecure());
  const lines: string[] = [];
  const call = client.serviceLogs({ serviceId: req.serviceId, follow: req.follow ?? false, tail: -1, timestamps: false });
  const done = new Promise<grpc.StatusObject | grpc.ServiceError>((resolve) => {
    call.on('data', (msg: LogMessage) => lines.push(Buffer.from(msg.data).toString()));
    call.on('error', (e: grpc.ServiceError) => resolve(e));
    call.on('end', () => resolve({ code: grpc.status.OK, details: '', metadata: new grpc.Metadata() }));
  }).finally(() => client.close());
  return { lines, call, done };
}

describe('service logs on a manager that is not the leader', () => {
  let leader: FakeManager;
  let follower: FakeManager;

  beforeEach(async () => {
    leader = await startManager(true);
    follower = await startManager(false);
    // The leader accepts only callers with a manager certificate; the follower presents one.
    follower.deps.dialLeader = (address) => new ManagerLogsClient(address, grpc.credentials.createInsecure(), {
      interceptors: [(options, next) => new grpc.InterceptingCall(next(options), {
        start: (md, listener, nxt) => {
          md.set(ROLE_HEADER, 'manager');
          nxt(md, listener);
        },
      })],
    });
    follower.setLeader('L', leader.addr);
  });

  afterEach(() => {
    leader.server.forceShutdown();
    follower.server.forceShutdown();
  });

  it('forwards to the leader and relays its lines until the leader ends the stream', async () => {
    const r = logs(follower, { serviceId: 'web' });
    await waitUntil('the leader subscribed', () => leader.streams.length === 1);
    assert.deepEqual(leader.subscribed[0], { serviceId: 'svc-web', follow: false, tail: -1 });
    leader.streams[0]!.push('hello');
    leader.streams[0]!.push('world');
    leader.streams[0]!.end();
    const status = await r.done;
    assert.equal(status.code, grpc.status.OK);
    assert.deepEqual(r.lines, ['hello', 'world']);
    assert.equal(follower.streams.length, 0, 'the follower collects nothing itself');
  });

  it('follows until the client cancels, and then the leader stops collecting too', async () => {
    const r = logs(follower, { serviceId: 'web', follow: true });
    await waitUntil('the leader subscribed', () => leader.streams.length === 1);
    leader.streams[0]!.push('one');
    await waitUntil('a line relayed', () => r.lines.length === 1);
    r.call.cancel();
    assert.equal((await r.done).code, grpc.status.CANCELLED);
    await waitUntil('the leader closed its subscription', () => leader.streams[0]!.closed);
  });

  it('ends with one line when this manager sees another leader mid-stream', async () => {
    const r = logs(follower, { serviceId: 'web', follow: true });
    await waitUntil('the leader subscribed', () => leader.streams.length === 1);
    leader.streams[0]!.push('one');
    await waitUntil('a line relayed', () => r.lines.length === 1);
    follower.setLeader('X', '127.0.0.1:1');
    const err = (await r.done) as grpc.ServiceError;
    assert.equal(err.code, grpc.status.ABORTED);
    assert.equal(err.details, leaderChangedMessage(leader.addr));
    assert.doesNotMatch(err.details, /\n/);
    await waitUntil('the leader closed its subscription', () => leader.streams[0]!.closed);
  });

  it('ends with the same line when the leader stops leading mid-stream', async () => {
    const r = logs(follower, { serviceId: 'web', follow: true });
    await waitUntil('the leader subscribed', () => leader.streams.length === 1);
    leader.stopLeading();
    const err = (await r.done) as grpc.ServiceError;
    assert.equal(err.code, grpc.status.ABORTED);
    assert.equal(err.details, leaderChangedMessage(leader.addr));
  });

  it('answers Docker\'s no-leader message when no leader is known, and not found for an unknown service', async () => {
    follower.setLeader('', undefined);
    const noLeader = (await logs(follower, { serviceId: 'web' }).done) as grpc.ServiceError;
    assert.equal(noLeader.code, grpc.status.FAILED_PRECONDITION);
    assert.equal(noLeader.details, NO_LEADER_MESSAGE);
    const missing = (await logs(follower, { serviceId: 'nope' }).done) as grpc.ServiceError;
    assert.equal(missing.code, grpc.status.NOT_FOUND);
    assert.equal(leader.streams.length, 0);
  });

  it('the leader refuses callers without a manager certificate, and a follower never forwards again', async () => {
    const anonymous = new ManagerLogsClient(leader.addr, grpc.credentials.createInsecure());
    const refused = await new Promise<grpc.ServiceError>((resolve) => {
      const c = anonymous.serviceLogs({ serviceId: 'svc-web', follow: false, tail: -1, timestamps: false });
      c.on('data', () => {});
      c.on('error', resolve);
    });
    anonymous.close();
    assert.equal(refused.code, grpc.status.PERMISSION_DENIED);
    assert.equal(leader.streams.length, 0);

    // A follower's own cluster port answers "not the leader" rather than forwarding.
    const toFollower = new ManagerLogsClient(follower.addr, grpc.credentials.createInsecure());
    const md = new grpc.Metadata();
    md.set(ROLE_HEADER, 'manager');
    const notLeader = await new Promise<grpc.ServiceError>((resolve) => {
      const c = toFollower.serviceLogs({ serviceId: 'svc-web', follow: false, tail: -1, timestamps: false }, md);
      c.on('data', () => {});
      c.on('error', resolve);
    });
    toFollower.close();
    assert.equal(notLeader.code, grpc.status.FAILED_PRECONDITION);
  });

  it('the leader streams from its own dispatcher, and says so in one line when it stops leading', async () => {
    const r = logs(leader, { serviceId: 'web', follow: true });
    await waitUntil('subscribed locally', () => leader.streams.length === 1);
    leader.streams[0]!.push('local');
    await waitUntil('a line', () => r.lines.length === 1);
    leader.stopLeading();
    const err = (await r.done) as grpc.ServiceError;
    assert.equal(err.code, grpc.status.ABORTED);
    assert.equal(err.details, leaderChangedMessage(leader.addr));
  });
});
