// NodeDisk on the real write-ahead log: src/storage's MemoryDisk writes the
// same records as the on-disk WAL and recovers with the same code, so each
// simulated crash also tests WAL recovery. Torn writes here are byte-granular:
// any prefix of the unsynced bytes may survive, usually ending mid-record,
// and recovery must cut the torn record off.
//
// MemoryDisk reports failures as rejected promises, which a synchronous
// simulation cannot observe in time. So every precondition it checks is
// checked here first, synchronously, and a call that still did not take
// effect (its save counter did not move) stops the run.

import { MemoryStorage } from '../../src/core/memoryStorage.js';
import type { Entry, HardState, Snapshot } from '../../src/core/types.js';
import { MemoryDisk, type MemoryRaftStorage } from '../../src/storage/memory-storage.js';
import { checkEntries } from '../../src/storage/validate.js';
import type { Rng } from './rng.js';
import type { NodeDisk } from './simDisk.js';

/** Small segments, so simulations also cut segments and release old ones. */
const SIM_SEGMENT_BYTES = 16 * 1024;

export class WalDisk implements NodeDisk {
  readonly unit = 'bytes';
  private readonly disk = new MemoryDisk({ segmentBytes: SIM_SEGMENT_BYTES });
  private handle: MemoryRaftStorage | null = null;
  private lastIndex = 0;
  private newestSnapshotIndex = 0;
  /** Recovery warnings (torn tails cut off…), for the trace. */
  warnings: string[] = [];

  persist(snapshot: Snapshot | undefined, entries: Entry[], hardState: HardState | undefined, sync: boolean): void {
    const h = this.open();
    if (snapshot) this.saveSnapshot(h, snapshot);
    if (!hardState && entries.length === 0 && !sync) return;
    checkEntries(entries, this.lastIndex);
    const before = h.stats().saves;
    swallow(h.save(hardState, entries, sync));
    if (h.stats().saves !== before + 1) throw new Error('wal storage refused a save the simulator validated');
    if (entries.length > 0) this.lastIndex = entries[entries.length - 1].index;
  }

  saveLocalSnapshot(snapshot: Snapshot, compactTo: number): void {
    const h = this.open();
    this.saveSnapshot(h, snapshot);
    if (compactTo > 0 && compactTo <= this.newestSnapshotIndex) swallow(h.releaseTo(compactTo));
  }

  crash(rng: Rng, torn: boolean): number {
    const keep = torn ? rng.int(0, this.disk.unsyncedBytes()) : 0;
    this.disk.crash({ keepUnsyncedBytes: keep });
    this.handle = null;
    return keep;
  }

  recover(): MemoryStorage {
    if (this.handle) throw new Error('wal disk: recover() while a process has it open');
    const { storage, state } = this.disk.open();
    this.handle = storage;
    this.warnings = state.warnings;
    const live = new MemoryStorage();
    if (state.snapshot) live.applySnapshot(state.snapshot);
    if (state.entries.length > 0) live.append(state.entries);
    live.setHardState(state.hardState);
    this.lastIndex = live.lastIndex();
    this.newestSnapshotIndex = state.snapshot?.metadata.index ?? 0;
    return live;
  }

  private open(): MemoryRaftStorage {
    if (!this.handle) throw new Error('wal disk: write before recover()');
    return this.handle;
  }

  private saveSnapshot(h: MemoryRaftStorage, snapshot: Snapshot): void {
    swallow(h.saveSnapshot(snapshot));
    const index = snapshot.metadata.index;
    if (index > this.newestSnapshotIndex) this.newestSnapshotIndex = index;
    // A leader's snapshot replaces the log; a local one leaves it as it is.
    if (index > this.lastIndex) this.lastIndex = index;
  }
}

/**
 * The promise is already settled (MemoryDisk is synchronous); failures were
 * pre-checked above. A handler keeps Node from reporting an unhandled rejection.
 */
function swallow(p: Promise<void>): void {
  p.catch(() => undefined);
}
