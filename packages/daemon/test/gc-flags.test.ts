import { strict as assert } from 'node:assert';
import { gcFlags } from '../src/gc-flags.js';

describe('tswarmd: garbage-collector flags', () => {
  it('scavenges on the main thread unless the operator chose a scavenger', () => {
    assert.deepEqual(gcFlags([], ''), ['--no-parallel-scavenge']);
    assert.deepEqual(gcFlags(['--max-old-space-size=512'], '--enable-source-maps'), ['--no-parallel-scavenge']);
    assert.deepEqual(gcFlags(['--parallel-scavenge'], ''), []);
    assert.deepEqual(gcFlags([], '--no-parallel-scavenge'), []);
    assert.deepEqual(gcFlags(['--single-threaded-gc'], ''), []);
    assert.deepEqual(gcFlags([], '--parallel-scavenge-task-trace'), ['--no-parallel-scavenge'], 'another flag that merely starts the same');
  });
});
