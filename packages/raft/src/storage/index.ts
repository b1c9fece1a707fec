// Durable Raft storage: the contract, the on-disk implementation and the
// in-memory one for tests and the simulator.
export * from './raft-storage.js';
export { openDiskStorage, DiskRaftStorage, INLINE_MAX_BYTES, type DiskStorageOptions } from './disk-storage.js';
export { SEGMENT_BYTES, type SyncMethod, type WalOptions } from './wal.js';
export { MemoryDisk, MemoryRaftStorage, type CrashOptions, type MemoryDiskOptions } from './memory-storage.js';
export { type FsLike, nodeFs } from './fs-shim.js';
export { SnapshotFileBuffer } from './snap-file.js';
