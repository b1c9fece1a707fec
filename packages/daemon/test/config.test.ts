import { strict as assert } from 'node:assert';
import { ConfigError, parseDaemonArgs } from '../src/index.js';

describe('tswarmd flags', () => {
  it('defaults to Docker-like paths', () => {
    delete process.env['TSWARM_HOST'];
    delete process.env['DOCKER_HOST'];
    const c = parseDaemonArgs([], 'h1');
    assert.equal(c.dataDir, '/var/lib/tswarm');
    assert.equal(c.host.url, 'unix:///run/tswarm/tswarm.sock');
    assert.equal(c.dockerHost, 'unix:///var/run/docker.sock');
    assert.equal(c.logLevel, 'info');
    assert.equal(c.nodeName, 'h1');
  });
  it('takes --data-dir, --host, --docker-host, --log-level, --node-name', () => {
    const c = parseDaemonArgs(['--data-dir', '/d', '-H', 'unix:///s.sock', '--docker-host', 'unix:///x.sock', '--log-level', 'debug', '--node-name', 'h2'], 'x');
    assert.deepEqual([c.dataDir, c.host.url, c.dockerHost, c.logLevel, c.nodeName], ['/d', 'unix:///s.sock', 'unix:///x.sock', 'debug', 'h2']);
  });
  for (const [argv, msg] of [
    [['--log-level', 'loud'], /invalid --log-level "loud"/],
    [['--host', 'ftp://x'], /invalid host "ftp:\/\/x"/],
    [['--data-dir', 'rel'], /invalid --data-dir "rel": use an absolute path/],
    [['--node-name', 'a b'], /invalid --node-name/],
    [['--bogus'], /unknown option '--bogus'/],
  ] as const) {
    it(`refuses ${argv.join(' ')} with a clear message`, () => {
      assert.throws(() => parseDaemonArgs([...argv], 'h'), (e: Error) => e instanceof ConfigError && msg.test(e.message));
    });
  }
});
