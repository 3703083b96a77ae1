// snappyjs ships no typings. Block format (not framed), which is what Prometheus remote read uses.
declare module "snappyjs" {
  export function compress(input: Uint8Array): Uint8Array;
  export function uncompress(input: Uint8Array, maxLength?: number): Uint8Array;
}
