// A periodic snapshot of a large state is captured at the applied index and encoded beside
// the loop (StateMachine.captureSnapshot): the member keeps committing and applying meanwhile.
import assert from 'node:assert/strict';
import { waitUntil } from '@tswarm/api';
import { RaftNode, type Snapshot } from '../../src/index.js';
import { decodeNodeSnapshot } from '../../src/node/snapshot-codec.js';
import { NullStorage, RecordingTransport } from './fakes.js';

class RecordingStorage extends NullStorage {
  snapshots: Snapshot[] = [];
  releasedTo: number[] = [];
  override saveSnapshot(s: Snapshot): Promise<void> {
    this.snapshots.push(s);
    return Promise.resolve();
  }
  override releaseTo(index: number): Promise<void> {
    this.releasedTo.push(index);
    return Promise.resolve();
  }
}

describe('raft node: periodic snapshots encoded beside the loop', () => {
  it('captures at the applied index, keeps applying while the state is encoded, then saves and compacts', async () => {
    const storage = new RecordingStorage();
    const applied: number[] = [];
    let release!: () => void;
    let capturedAt = -1;
    const node = new RaftNode({
      id: 'a', storage, recovered: { hardState: { term: 0, vote: '', commit: 0 }, snapshot: undefined, entries: [] },
      bootstrap: { a: 'a:2377' },
      stateMachine: {
        apply: (i) => applied.push(i),
        snapshot: () => assert.fail('the periodic snapshot must use captureSnapshot'),
        captureSnapshot: () => {
          capturedAt = applied[applied.length - 1]!;
          const state = new TextEncoder().encode(`state@${capturedAt}`);
          return {
            size: () => new Promise<number>((resolve) => (release = () => resolve(state.length))),
            writeInto: (out) => Promise.resolve(out.set(state)),
          };
        },
        restore: () => {},
      },
      transport: () => new RecordingTransport(),
      tickMs: 5, snapshotInterval: 8, keepEntriesAfterSnapshot: 2, rng: () => 0.5,
    });
    await node.start();
    try {
      await waitUntil('a leader', () => node.isLeader());
      const put = (s: string) => node.propose(new TextEncoder().encode(s));
      for (let i = 0; capturedAt < 0; i++) {
        if (i > 50) assert.fail(`no snapshot captured after ${i} writes (applied up to ${applied[applied.length - 1]})`);
        await put(`w${i}`);
      }
      // Held: nothing saved yet, and writes still commit and apply.
      const later = [];
      for (let i = 0; i < 5; i++) later.push(await put(`later${i}`));
      assert.ok(later.every((idx) => applied.includes(idx)), 'writes applied while the snapshot was being encoded');
      assert.equal(storage.snapshots.length, 0);
      release();
      await waitUntil('the snapshot saved', () => storage.snapshots.length === 1 && storage.releasedTo.length === 1);
      const snap = storage.snapshots[0]!;
      assert.equal(snap.metadata.index, capturedAt, 'the snapshot is at the index the state was captured at');
      assert.equal(Buffer.from(decodeNodeSnapshot(snap.data).app).toString(), `state@${capturedAt}`);
      assert.ok(applied[applied.length - 1]! > capturedAt);
      assert.deepEqual(storage.releasedTo, [capturedAt - 2]);
    } finally {
      node.stop();
    }
  });
});
