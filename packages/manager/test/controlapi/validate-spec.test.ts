import * as assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { checkImage } from '../../src/controlapi/validate-spec.js';
import { StatusError } from '../../src/controlapi/errors.js';
import { harness, spec } from './harness.js';

describe('control API: image references', () => {
  const valid = [
    'nginx',
    'nginx:1.25-alpine',
    'library/nginx:latest',
    'localhost:5000/team/app:v1.2.3',
    'registry.example.com/a/b_c/d__e/f-g:tag',
    `nginx@sha256:${'a'.repeat(64)}`,
    `ghcr.io/org/app:1@sha256:${'0'.repeat(64)}`,
  ];
  for (const image of valid) {
    it(`accepts ${image}`, () => checkImage(image));
  }

  const invalid = ['nginx:', ':tag', 'nginx latest', 'nginx//x', '-nginx', 'nginx@sha256:xyz', 'Nginx:1'];
  for (const image of invalid) {
    it(`refuses ${JSON.stringify(image)}`, () => {
      assert.throws(() => checkImage(image), (e: unknown) => e instanceof StatusError && e.code === status.INVALID_ARGUMENT && e.details.includes(`"${image}"`));
    });
  }
});

describe('control API: name resolution order', () => {
  it('prefers an exact name over an ID prefix, as Docker does', async () => {
    const h = harness();
    const first = (await h.api.createService({ spec: spec({ name: 'a' }) })).service!;
    // A service named like the start of the other one's ID.
    const named = (await h.api.createService({ spec: spec({ name: first.id.slice(0, 6) }) })).service!;
    assert.equal((await h.api.getService({ serviceId: first.id.slice(0, 6) })).service?.id, named.id);
  });
});
