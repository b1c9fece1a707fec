import * as assert from 'node:assert/strict';
import { engineAddress } from '../src/index.js';

describe('engine address in messages', () => {
  it('names the socket or host, and never prints the lazy default resolver', () => {
    assert.equal(engineAddress({ socketPath: '/run/docker.sock' }), '/run/docker.sock');
    assert.equal(engineAddress({ host: '10.0.0.5', port: 2376 }), '10.0.0.5:2376');
    const lazyDefault = () => Promise.resolve('/var/run/docker.sock');
    assert.equal(engineAddress({ socketPath: lazyDefault }), "Docker's default socket (/var/run/docker.sock)");
  });
});
