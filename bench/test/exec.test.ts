// The benchmarks' check for the peer programs they run.
import { strict as assert } from 'node:assert';
import { requireCommand } from '../src/exec.js';

describe('the benchmarks’ required commands', () => {
  it('names the package to install when a command is missing, and passes a present one', () => {
    assert.throws(() => requireCommand('tswarm-bench-no-such-command', 'some-package'), /^Error: tswarm-bench-no-such-command is not installed: the benchmark needs Debian's some-package \(bash scripts\/host-setup.sh installs it\)$/);
    assert.doesNotThrow(() => requireCommand(process.execPath, 'nodejs'));
  });
});
