// Gorilla XOR chunks: the encoded form of samples in the head and in blocks.
export {
  XorChunk,
  XorEncoder,
  XorIterator,
  CHUNK_HEADER_BYTES,
  MAX_CHUNK_SAMPLES,
  MAX_SAMPLE_BYTES,
  MAX_ABS_TIMESTAMP,
  type XorState,
} from './xor.js';
