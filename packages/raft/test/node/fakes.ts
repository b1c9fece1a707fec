// Stand-ins for a RaftNode's storage and transport in the node tests.
import type { Entry, HardState, Message, RaftStorage, Snapshot, Transport } from '../../src/index.js';

/** Storage where every call succeeds at once; tests override what they observe or hold. */
export class NullStorage implements RaftStorage {
  save(_hs: HardState | undefined, _entries: readonly Entry[], _mustSync: boolean): Promise<void> {
    return Promise.resolve();
  }
  saveSnapshot(_snapshot: Snapshot): Promise<void> {
    return Promise.resolve();
  }
  releaseTo(_index: number): Promise<void> {
    return Promise.resolve();
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
  stats() {
    return { saves: 0, syncs: 0, writes: 0, bytes: 0, segmentsCut: 0 };
  }
}

/** A transport that records what the node sends. */
export class RecordingTransport implements Transport {
  sent: Message[] = [];
  send(messages: Message[]): void {
    this.sent.push(...messages);
  }
  addPeer(): void {}
  removePeer(): void {}
  close(): void {}
}
