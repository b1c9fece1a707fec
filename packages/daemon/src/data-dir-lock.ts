import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';

export const LOCK_FILE = 'tswarmd.pid';

/**
 * One tswarmd per data directory: two would both append to the same Raft log and swap
 * each other's certificates. The lock is a pid file created exclusively; one left by a
 * daemon that died (its pid no longer runs) is taken over. `isAlive` is injected for tests.
 */
export function lockDataDir(dataDir: string, pid = process.pid, isAlive: (pid: number) => boolean = pidAlive): () => void {
  const file = path.join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(file, 'wx', 0o600);
      writeSync(fd, `${pid}\n`);
      closeSync(fd);
      return () => {
        try {
          if (readFileSync(file, 'utf8').trim() === String(pid)) unlinkSync(file);
        } catch {
          // already gone: nothing to release
        }
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`cannot lock ${dataDir}: ${(e as Error).message}`);
      const holder = Number(readFileSync(file, 'utf8').trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== pid && isAlive(holder)) {
        throw new Error(`another tswarmd (pid ${holder}) is using ${dataDir}; stop it first or choose another --data-dir`);
      }
      unlinkSync(file); // left by a daemon that is gone: take it over
    }
  }
  throw new Error(`cannot lock ${dataDir}: the lock file keeps reappearing; is another tswarmd starting?`);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}
