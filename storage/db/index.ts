// The storage facade: data directory, lock, blocks + head + WAL, background persistence,
// compaction and retention.
export { openStorage, mergeBlocks, DEFAULT_BLOCK_DURATION, type Storage, type StorageOptions, type StorageMetric, type WalReplayStatus, type CompactResult, type SnapshotResult } from './storage.js';
export { MergeQuerier, MergeIterator, ChainIterator, mergeSeriesSets } from './merge.js';
export { acquireLock, releaseLock, LOCK_FILE } from './lock.js';
