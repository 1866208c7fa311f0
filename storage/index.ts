// The storage subsystem's public surface. Other folders import from here only.
export { Labels, LabelsBuilder, METRIC_NAME, intern, compareStrings, isLegacyLabelName, isLegacyMetricName, isValidLabelName, isValidMetricName, isWellFormed, formatLabelName, quoteString } from './labels.js';
export { Matcher, MatcherError, compileRegex, literalOf, matchesAll, type MatchType } from './matchers.js';
export {
  ValueType,
  StorageError,
  STALE_NAN,
  isStaleNaN,
  emptySeriesSet,
  type SeriesRef,
  type Appender,
  type Appendable,
  type SampleIterator,
  type Series,
  type SeriesSet,
  type SelectHints,
  type Querier,
  type Queryable,
  type StorageErrorCode,
} from './interface.js';
export {
  Head,
  DEFAULT_CHUNK_RANGE,
  DEFAULT_SAMPLES_PER_CHUNK,
  MAX_HEAD_SERIES,
  type HeadOptions,
  type HeadStats,
  type HeadStat,
  type HeadTruncateStats,
  type HeadReplayStats,
  type HeadChunk,
  type HeadChunkSeries,
  type HeadChunkSeriesSet,
} from './head/index.js';
export { XorChunk, XorIterator } from './chunks/index.js';
export { Wal, DEFAULT_SEGMENT_SIZE, type WalOptions, type WalReplayStats, type WalTruncateStats, type StorageLogger } from './wal/index.js';
export { Block, writeBlock, BLOCK_SUFFIX, DEFAULT_BLOCK_CHUNK_SAMPLES, type BlockMeta, type BlockStats, type SeriesSource, type SourceChunk, type WriteBlockOptions } from './block/index.js';
export {
  openStorage,
  DEFAULT_BLOCK_DURATION,
  MergeQuerier,
  mergeSeriesSets,
  type Storage,
  type StorageOptions,
  type StorageMetric,
  type WalReplayStatus,
  type CompactResult,
  type SnapshotResult,
} from './db/index.js';
