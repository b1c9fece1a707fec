import { strict as assert } from 'node:assert';
import { parseHost, grpcTarget, DEFAULT_HOST } from '../src/index.js';

describe('parseHost (-H/--host)', () => {
  it('accepts the default unix socket', () => {
    const h = parseHost(DEFAULT_HOST);
    assert.deepEqual(h, { kind: 'unix', path: '/run/tswarm/tswarm.sock', url: DEFAULT_HOST });
    assert.equal(grpcTarget(h), 'unix:/run/tswarm/tswarm.sock');
  });
  it('accepts a bare absolute path and tcp://host:port', () => {
    assert.equal(parseHost('/tmp/x.sock').url, 'unix:///tmp/x.sock');
    assert.equal(grpcTarget(parseHost('tcp://127.0.0.1:2375')), '127.0.0.1:2375');
  });
  it('rejects relative sockets, bad ports and unknown schemes with a one-line message', () => {
    for (const bad of ['unix://rel.sock', 'tcp://h:0', 'tcp://h:99999', 'http://x', 'tcp://h']) {
      assert.throws(() => parseHost(bad), (e: Error) => e.message.startsWith(`invalid host "${bad}"`) && !e.message.includes('\n'));
    }
  });
});
