// A node's disk as the simulator sees it: a durable image plus writes that
// have reached the OS but not been fsynced. A crash loses the unsynced writes;
// with torn writes enabled a random prefix of them survives instead — the
// shape a checksummed WAL leaves after it truncates a torn tail record (etcd's
// WAL writes each entry as a record, then the HardState, so a prefix of a
// Ready's entries can survive without the HardState written after them).
//
// The durable image is itself a MemoryStorage, so replaying items into it uses
// the same append/truncate rules as the node's live log. Restart rebuilds the
// live storage from the image (see toLiveStorage).
//
// This entry-granular model is the simulator's reference; walDisk.ts runs the
// real WAL (src/storage MemoryDisk) behind the same NodeDisk interface, so a
// failure that shows up with one disk and not the other points at the WAL.

import { MemoryStorage } from '../../src/core/memoryStorage.js';
import type { ConfState, Entry, HardState, Snapshot } from '../../src/core/types.js';
import type { Rng } from './rng.js';

/** What a simulated node needs from its disk. Every call completes synchronously. */
export interface NodeDisk {
  /** Persists what a Ready asks for; fsyncs (with every earlier write) when sync is set. */
  persist(snapshot: Snapshot | undefined, entries: Entry[], hardState: HardState | undefined, sync: boolean): void;
  /** A local snapshot of the applied state, made durable; the log up to compactTo may go. */
  saveLocalSnapshot(snapshot: Snapshot, compactTo: number): void;
  /** Power loss; with torn, part of the unsynced writes survives. Returns how much did (items or bytes). */
  crash(rng: Rng, torn: boolean): number;
  /** A process start: the live storage rebuilt from what is durable. */
  recover(): MemoryStorage;
  /** What crash() counts: 'items' (entries, HardStates) or 'bytes'. */
  readonly unit: string;
}

type Item =
  | { kind: 'entry'; entry: Entry }
  | { kind: 'hardState'; hardState: HardState }
  | { kind: 'snapshot'; snapshot: Snapshot };

export class SimDisk implements NodeDisk {
  readonly unit = 'items';
  private image = new MemoryStorage();
  private unsynced: Item[] = [];
  syncs = 0;

  /** Writes (without fsync) what a Ready asks to persist, in WAL order. */
  write(snapshot: Snapshot | undefined, entries: Entry[], hardState: HardState | undefined): void {
    if (snapshot) this.unsynced.push({ kind: 'snapshot', snapshot });
    for (const entry of entries) this.unsynced.push({ kind: 'entry', entry });
    if (hardState) this.unsynced.push({ kind: 'hardState', hardState });
  }

  persist(snapshot: Snapshot | undefined, entries: Entry[], hardState: HardState | undefined, sync: boolean): void {
    // As RaftStorage: a snapshot is durable at once (file, then a synced log
    // record); the entries and HardState after it follow the Ready's mustSync.
    if (snapshot) {
      this.write(snapshot, [], undefined);
      this.sync();
    }
    this.write(undefined, entries, hardState);
    if (sync) this.sync();
  }

  saveLocalSnapshot(snapshot: Snapshot, compactTo: number): void {
    const md = snapshot.metadata;
    this.saveSnapshot(md.index, md.confState, snapshot.data, compactTo);
  }

  recover(): MemoryStorage {
    return this.toLiveStorage();
  }

  sync(): void {
    if (this.unsynced.length === 0) return;
    this.syncs++;
    for (const item of this.unsynced) this.replay(item);
    this.unsynced = [];
  }

  get pendingWrites(): number {
    return this.unsynced.length;
  }

  /**
   * Power loss: unsynced writes vanish, or with `torn` a random prefix of them
   * survives. Returns how many items survived, for the trace.
   */
  crash(rng: Rng, torn: boolean): number {
    const keep = torn && this.unsynced.length > 0 ? rng.int(0, this.unsynced.length) : 0;
    for (const item of this.unsynced.slice(0, keep)) this.replay(item);
    this.unsynced = [];
    return keep;
  }

  /**
   * A local snapshot of the applied state, durably written (etcd writes the
   * snap file and fsyncs before compacting the WAL). Compacts the image.
   */
  saveSnapshot(index: number, cs: ConfState, data: Uint8Array, compactTo: number): void {
    this.sync();
    if (index <= this.image.snapshot().metadata.index || index > this.image.lastIndex()) return;
    this.image.createSnapshot(index, cs, data);
    if (compactTo > this.image.firstIndex() - 1 && compactTo <= this.image.lastIndex()) this.image.compact(compactTo);
  }

  /** A fresh live storage holding exactly the durable image. */
  toLiveStorage(): MemoryStorage {
    const live = new MemoryStorage();
    const snap = this.image.snapshot();
    if (snap.metadata.index > 0) live.applySnapshot(snap);
    else live.setConfState(snap.metadata.confState);
    const first = this.image.firstIndex();
    const last = this.image.lastIndex();
    if (last >= first) live.append(this.image.entries(first, last + 1, Number.MAX_SAFE_INTEGER));
    live.setHardState(this.image.initialState().hardState);
    return live;
  }

  durableSnapshot(): Snapshot {
    return this.image.snapshot();
  }

  private replay(item: Item): void {
    switch (item.kind) {
      case 'entry':
        // Entries already folded into a newer snapshot are skipped, as a WAL
        // replay skips records below the snapshot index.
        if (item.entry.index > this.image.snapshot().metadata.index) this.image.append([item.entry]);
        return;
      case 'hardState':
        this.image.setHardState(item.hardState);
        return;
      case 'snapshot':
        if (item.snapshot.metadata.index > this.image.snapshot().metadata.index) this.image.applySnapshot(item.snapshot);
        return;
    }
  }
}
