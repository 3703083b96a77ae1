// Typings for the untyped snappyjs package (snappy *block* format, what Prometheus remote read and
// write use; not the framed/streaming format).
declare module "snappyjs" {
  /** Compress; returns the same kind of buffer it was given. */
  export function compress(input: Uint8Array): Uint8Array;
  /** Decompress; throws a plain Error on a corrupt stream or when the declared length exceeds maxLength. */
  export function uncompress(input: Uint8Array, maxLength?: number): Uint8Array;
}
