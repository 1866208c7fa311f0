// The write-ahead log: segments of CRC-checked records, replay with repair, checkpoints.
export { Wal, DEFAULT_SEGMENT_SIZE, type WalOptions, type WalReplayStats, type WalTruncateStats } from './wal.js';
export { nopStorageLogger, type WalWriter, type WalReplayHandler, type StorageLogger } from './types.js';
