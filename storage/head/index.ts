// The in-memory head: series, open chunks, the inverted index, appenders and queriers.
export {
  Head,
  DEFAULT_CHUNK_RANGE,
  DEFAULT_SAMPLES_PER_CHUNK,
  MAX_HEAD_SERIES,
  emptyReplayStats,
  type HeadOptions,
  type HeadStats,
  type HeadStat,
  type HeadTruncateStats,
  type HeadReplayStats,
  type HeadChunk,
  type HeadChunkSeries,
  type HeadChunkSeriesSet,
} from './head.js';
