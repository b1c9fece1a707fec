import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { DaemonServer, DaemonService, InfoResponse } from '@tswarm/api';
import { run } from '../src/index.js';

async function tswarm(...argv: string[]) {
  let out = '';
  let err = '';
  const code = await run(argv, { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

const INFO: InfoResponse = {
  version: '0.1.0', hostname: 'h7', dataDir: '/var/lib/tswarm', dockerHost: 'unix:///var/run/docker.sock',
  engine: { serverVersion: '20.10.24', containers: 3, images: 2, error: '' },
  swarm: { localNodeState: 'inactive', nodeId: '', nodeAddr: '', isManager: false, clusterId: '', error: '' },
  cpus: 2, memoryBytes: 2 * 1024 ** 3, kernelVersion: '6.1.0', operatingSystem: 'Debian GNU/Linux 12 (bookworm)', addresses: ['192.168.213.11'],
};

describe('tswarm CLI', () => {
  let dir: string;
  let server: grpc.Server;
  let sock: string;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'tswarm-cli-'));
    sock = path.join(dir, 'tswarm.sock');
    server = new grpc.Server();
    const impl: DaemonServer = {
      version: (_c, cb) => cb(null, { version: '0.1.0', apiVersion: '1.0', nodeVersion: 'v20', os: 'linux', arch: 'x64', gitCommit: '' }),
      info: (_c, cb) => cb(null, INFO),
    };
    server.addService(DaemonService, impl);
    await new Promise<void>((res, rej) => server.bindAsync(`unix:${sock}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? rej(e) : res())));
  });
  after(() => {
    server.forceShutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints Docker-style root help with global options and exits 0', async () => {
    const r = await tswarm('--help');
    assert.equal(r.code, 0);
    assert.match(r.out, /^\nUsage:  tswarm \[OPTIONS\] COMMAND\n/);
    assert.match(r.out, /\nCommands:\n  info {8}Display system-wide information\n/);
    assert.match(r.out, /\nGlobal Options:\n  -D, --debug {14}Enable debug mode\n  -H, --host string /);
    assert.match(r.out, /Run 'tswarm COMMAND --help' for more information on a command\./);
  });

  it('prints a command help with its Options block', async () => {
    const r = await tswarm('info', '--help');
    assert.equal(r.code, 0);
    assert.match(r.out, /^\nUsage:  tswarm info \[OPTIONS\]\n\nDisplay system-wide information\n\nOptions:\n  -f, --format string /);
  });

  it('refuses an unknown flag on one line with exit 125, like docker', async () => {
    const r = await tswarm('info', '--bogus');
    assert.equal(r.code, 125);
    assert.equal(r.err, "unknown flag: --bogus. See 'tswarm info --help'.\n");
  });

  it('refuses a malformed -H on one line', async () => {
    const r = await tswarm('-H', 'http://x', 'info');
    assert.equal(r.code, 125);
    assert.equal(r.err.split('\n').filter(Boolean).length, 1);
    assert.match(r.err, /invalid host "http:\/\/x"/);
  });

  it('says how to start the daemon when nothing listens, exit 1, no stack trace', async () => {
    const r = await tswarm('-H', `unix://${dir}/nobody.sock`, 'info');
    assert.equal(r.code, 1);
    assert.equal(r.err.split('\n').filter(Boolean).length, 1);
    assert.match(r.err, /^Cannot connect to the tswarm daemon at unix:\/\/.*nobody\.sock\. Is tswarmd running\? Start it with 'tswarmd &'/);
  });

  it('shows info from the daemon', async () => {
    const r = await tswarm('-H', `unix://${sock}`, 'info');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /\n Containers: 3\n/);
    assert.match(r.out, /\n Swarm: inactive\n/);
    assert.match(r.out, /\n Name: h7\n/);
    assert.match(r.out, /\n Total Memory: 2GiB\n/);
  });

  it('takes the socket from TSWARM_HOST and prints version as json', async () => {
    process.env['TSWARM_HOST'] = `unix://${sock}`;
    try {
      const r = await tswarm('version', '--format', 'json');
      assert.equal(r.code, 0, r.err);
      const v = JSON.parse(r.out);
      assert.equal(v.Server.apiVersion, '1.0');
      assert.equal(v.Client.version, '0.1.0');
    } finally {
      delete process.env['TSWARM_HOST'];
    }
  });

  it('refuses an unsupported --format rather than ignoring it', async () => {
    const r = await tswarm('-H', `unix://${sock}`, 'info', '--format', '{{.Name}}');
    assert.equal(r.code, 125);
    assert.match(r.err, /unsupported --format/);
  });
});
