// snappyjs ships no types: the two functions we use, on Node Buffers / Uint8Arrays.
declare module 'snappyjs' {
  /** Snappy block-format decompression; throws when the input is corrupt or longer than maxLength. */
  export function uncompress(compressed: Uint8Array, maxLength?: number): Uint8Array;
  export function compress(uncompressed: Uint8Array): Uint8Array;
  const snappy: { uncompress: typeof uncompress; compress: typeof compress };
  export default snappy;
}
