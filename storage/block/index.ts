// Persisted blocks: immutable SQLite files of a time range (storage/FORMAT.md "Blocks").
export { Block, type BlockSeries } from './block.js';
export { mergeInterval } from '../tombstones.js';
export { BlockQuerier, ChunkListIterator, arraySeriesSet } from './querier.js';
export { writeBlock, writeBlockSteps, drain, SERIES_PER_STEP, fsyncPath, Rechunker, DEFAULT_BLOCK_CHUNK_SAMPLES, type BlockMeta, type BlockStats, type SeriesSource, type SourceChunk, type WriteBlockOptions } from './writer.js';
export { BLOCK_SUFFIX, BLOCK_FORMAT, newUlid, ULID_RE } from './format.js';
