import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LOCK_FILE, lockDataDir } from '../src/data-dir-lock.js';

describe('tswarmd: one daemon per data directory', () => {
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'tswarm-lock-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('takes the lock, refuses a second live daemon, and releases on stop', () => {
    const release = lockDataDir(dir, 1111, () => true);
    assert.equal(readFileSync(path.join(dir, LOCK_FILE), 'utf8').trim(), '1111');
    assert.throws(() => lockDataDir(dir, 2222, () => true), /another tswarmd \(pid 1111\) is using .*; stop it first or choose another --data-dir/);
    release();
    assert.ok(!existsSync(path.join(dir, LOCK_FILE)));
    lockDataDir(dir, 2222, () => true)();
  });

  it('takes over a lock left by a daemon that died', () => {
    writeFileSync(path.join(dir, LOCK_FILE), '4242\n');
    const release = lockDataDir(dir, 3333, (pid) => pid !== 4242);
    assert.equal(readFileSync(path.join(dir, LOCK_FILE), 'utf8').trim(), '3333');
    release();
  });
});
