import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { ControlService, DaemonServer, DaemonService, InfoResponse } from '@tswarm/api';
import { Io, run } from '../src/index.js';

/**
 * An in-process tswarmd stand-in on a unix socket: the Daemon service answers info/version,
 * the Control service records every call and answers from per-test handlers (a method with
 * no handler fails UNIMPLEMENTED, so an unexpected call shows up as a failing test).
 */
export type Handler = (req: any) => any; // eslint-disable-line @typescript-eslint/no-explicit-any
export type StreamHandler = (req: any, write: (m: unknown) => void) => void; // eslint-disable-line @typescript-eslint/no-explicit-any

export const INFO: InfoResponse = {
  version: '0.1.0', hostname: 'h1', dataDir: '/var/lib/tswarm', dockerHost: 'unix:///var/run/docker.sock',
  engine: { serverVersion: '20.10.24', containers: 0, images: 0, error: '' },
  swarm: { localNodeState: 'active', nodeId: 'node1aaaaaaaaaaaaaaaaaaaaa', nodeAddr: '10.0.0.1', isManager: true, clusterId: 'c1', error: '' },
  cpus: 2, memoryBytes: 2 * 1024 ** 3, kernelVersion: '6.1.0', operatingSystem: 'Debian', addresses: [],
};

export class FakeDaemon {
  readonly calls: Array<{ method: string; req: any }> = []; // eslint-disable-line @typescript-eslint/no-explicit-any
  handlers: Record<string, Handler> = {};
  streams: Record<string, StreamHandler> = {};
  private server = new grpc.Server();
  private dir = mkdtempSync(path.join(os.tmpdir(), 'tswarm-cli-'));
  readonly sock = path.join(this.dir, 'tswarm.sock');

  async start(): Promise<void> {
    const daemon: DaemonServer = {
      version: (_c, cb) => cb(null, { version: '0.1.0', apiVersion: '1.0', nodeVersion: 'v20', os: 'linux', arch: 'x64', gitCommit: '' }),
      info: (_c, cb) => cb(null, INFO),
    };
    this.server.addService(DaemonService, daemon);
    const control: grpc.UntypedServiceImplementation = {};
    for (const [name, def] of Object.entries(ControlService)) {
      if (def.responseStream) {
        control[name] = (call: grpc.ServerWritableStream<unknown, unknown>) => {
          this.calls.push({ method: name, req: call.request });
          const h = this.streams[name];
          if (!h) {
            call.destroy(Object.assign(new Error('unimplemented'), { code: grpc.status.UNIMPLEMENTED }));
            return;
          }
          h(call.request, (m) => call.write(m));
          call.end();
        };
      } else {
        control[name] = (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
          this.calls.push({ method: name, req: call.request });
          const h = this.handlers[name];
          if (!h) {
            cb({ code: grpc.status.UNIMPLEMENTED, details: `fake: no handler for ${name}` });
            return;
          }
          try {
            cb(null, h(call.request));
          } catch (e) {
            cb({ code: (e as { code?: number }).code ?? grpc.status.FAILED_PRECONDITION, details: (e as Error).message });
          }
        };
      }
    }
    this.server.addService(ControlService, control);
    await new Promise<void>((res, rej) => this.server.bindAsync(`unix:${this.sock}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? rej(e) : res())));
  }

  stop(): void {
    this.server.forceShutdown();
    rmSync(this.dir, { recursive: true, force: true });
  }

  reset(): void {
    this.calls.length = 0;
    this.handlers = {};
    this.streams = {};
  }

  /** Runs `tswarm -H unix://<sock> argv…` in-process and captures its output. */
  async tswarm(argv: string[], io: Partial<Io> = {}): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const code = await run(['-H', `unix://${this.sock}`, ...argv], { out: (s) => (out += s), err: (s) => (err += s), ...io });
    return { code, out, err };
  }

  only(method: string): any { // eslint-disable-line @typescript-eslint/no-explicit-any
    const c = this.calls.filter((x) => x.method === method);
    assert.equal(c.length, 1, `expected one ${method} call, saw ${this.calls.map((x) => x.method).join(', ') || 'none'}`);
    return c[0]!.req;
  }
}
