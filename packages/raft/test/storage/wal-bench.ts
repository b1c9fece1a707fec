// Micro-benchmark of the disk storage's write path (a script, not a test):
//
//   node packages/raft/dist/test/storage/wal-bench.js [seconds-per-case]
//
// Prints saves/s, entries/s, MB/s and syncs/s for 256-byte entries, every
// save with mustSync, in batches of 1 and 64; then 256 concurrent writers of
// one entry each (group commit: saves queued behind a busy disk share one
// write and one sync); and a bare write+fdatasync loop as the disk's ceiling.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { type Entry, openDiskStorage, type SyncMethod } from '../../src/index.js';

const ENTRY_BYTES = 256;
const seconds = Number(process.argv[2] ?? 2);

interface Result {
  name: string;
  saves: number;
  entries: number;
  bytes: number;
  syncs: number;
  elapsedS: number;
}

async function sequential(method: SyncMethod, batch: number): Promise<Result> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wal-bench-'));
  try {
    const { storage } = await openDiskStorage(dir, { syncMethod: method });
    const data = new Uint8Array(ENTRY_BYTES).fill(7);
    let index = 1;
    let saves = 0;
    const start = process.hrtime.bigint();
    const deadline = start + BigInt(Math.round(seconds * 1e9));
    while (process.hrtime.bigint() < deadline) {
      const entries: Entry[] = [];
      for (let i = 0; i < batch; i++) entries.push({ term: 1, index: index++, type: 'normal', data });
      await storage.save({ term: 1, vote: 'a', commit: index - 1 }, entries, true);
      saves++;
    }
    const elapsedS = Number(process.hrtime.bigint() - start) / 1e9;
    const st = storage.stats();
    await storage.close();
    return { name: `${method}, batches of ${batch}`, saves, entries: index - 1, bytes: st.bytes, syncs: st.syncs, elapsedS };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** `clients` writers, each saving one entry and waiting for it, as proposals from many clients would. */
async function concurrent(method: SyncMethod, clients: number): Promise<Result> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wal-bench-'));
  try {
    const { storage } = await openDiskStorage(dir, { syncMethod: method });
    const data = new Uint8Array(ENTRY_BYTES).fill(7);
    let index = 1;
    let saves = 0;
    const start = process.hrtime.bigint();
    const deadline = start + BigInt(Math.round(seconds * 1e9));
    const client = async () => {
      while (process.hrtime.bigint() < deadline) {
        const i = index++;
        await storage.save(undefined, [{ term: 1, index: i, type: 'normal', data }], true);
        saves++;
      }
    };
    await Promise.all(Array.from({ length: clients }, client));
    const elapsedS = Number(process.hrtime.bigint() - start) / 1e9;
    const st = storage.stats();
    await storage.close();
    return { name: `${method}, ${clients} concurrent writers`, saves, entries: saves, bytes: st.bytes, syncs: st.syncs, elapsedS };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The ceiling: pwrite of one record-sized buffer + fdatasync, back to back, synchronously. */
function rawFdatasync(): Result {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wal-bench-'));
  try {
    const fd = fs.openSync(path.join(dir, 'raw'), 'w+');
    fs.ftruncateSync(fd, 64 * 1024 * 1024);
    const buf = Buffer.alloc(ENTRY_BYTES + 34, 7);
    let n = 0;
    const start = process.hrtime.bigint();
    const deadline = start + BigInt(Math.round(seconds * 1e9));
    while (process.hrtime.bigint() < deadline) {
      fs.writeSync(fd, buf, 0, buf.length, n * buf.length);
      fs.fdatasyncSync(fd);
      n++;
    }
    const elapsedS = Number(process.hrtime.bigint() - start) / 1e9;
    fs.closeSync(fd);
    return { name: 'raw writeSync+fdatasyncSync', saves: n, entries: n, bytes: n * buf.length, syncs: n, elapsedS };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function print(r: Result): void {
  const per = (n: number) => Math.round(n / r.elapsedS).toLocaleString('en-US').padStart(10);
  const mbs = (r.bytes / r.elapsedS / 1e6).toFixed(1).padStart(7);
  console.log(`${r.name.padEnd(36)} ${per(r.saves)} saves/s ${per(r.entries)} entries/s ${mbs} MB/s ${per(r.syncs)} syncs/s`);
}

async function main(): Promise<void> {
  console.log(`wal-bench: ${ENTRY_BYTES}-byte entries, every save mustSync, ${seconds}s per case, dir ${os.tmpdir()}`);
  print(rawFdatasync());
  for (const method of ['dsync', 'fdatasync'] as const) {
    print(await sequential(method, 1));
    print(await sequential(method, 64));
    print(await concurrent(method, 256));
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
