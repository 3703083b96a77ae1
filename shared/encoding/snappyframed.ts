// Snappy *framing* format (github.com/google/snappy framing_format.txt): what Thanos' gRPC `snappy`
// codec (pkg/extgrpc/snappy: klauspost snappy.NewBufferedWriter / NewReader) puts in each compressed
// gRPC message. Not the block format of Prometheus remote read (shared/remote/snappy.ts).
//
// Layout: chunks of type(1) | length(3, little-endian) | payload.
//   0xff  stream identifier, payload "sNaPpY" (first chunk; may repeat where streams were concatenated)
//   0x00  compressed data: masked CRC-32C of the uncompressed bytes (4, LE) | snappy block
//   0x01  uncompressed data: masked CRC-32C (4, LE) | bytes
//   0x02-0x7f reserved, unskippable (error); 0x80-0xfe skippable (padding, s2 index, ...)
// Uncompressed data per chunk is at most 65536 bytes. mask(c) = ((c >>> 15) | (c << 17)) + 0xa282ead8.

import { compress, uncompress } from "snappyjs";
import { crc32c } from "./crc32c.ts";
import { CodedError } from "./errors.ts";

const IDENT = new Uint8Array([0xff, 0x06, 0x00, 0x00, 0x73, 0x4e, 0x61, 0x50, 0x70, 0x59]); // ff 06 00 00 "sNaPpY"
const MAX_BLOCK = 65536;

function masked(b: Uint8Array): number {
  const c = crc32c(b);
  return ((((c >>> 15) | (c << 17)) >>> 0) + 0xa282ead8) >>> 0;
}

/** One framed stream: the identifier, then one chunk per 64 KiB (stored raw when snappy does not shrink it). */
export function snappyFramedEncode(data: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [IDENT];
  let size = IDENT.length;
  for (let off = 0; off < data.length; off += MAX_BLOCK) {
    const raw = data.subarray(off, Math.min(off + MAX_BLOCK, data.length));
    const comp = compress(raw);
    // Compressing must save at least 1/8 (what the reference writers do), else the chunk goes raw.
    const useRaw = comp.length >= raw.length - (raw.length >>> 3);
    const body = useRaw ? raw : comp;
    const hdr = new Uint8Array(8);
    const len = body.length + 4;
    hdr[0] = useRaw ? 0x01 : 0x00;
    hdr[1] = len & 0xff; hdr[2] = (len >>> 8) & 0xff; hdr[3] = (len >>> 16) & 0xff;
    new DataView(hdr.buffer).setUint32(4, masked(raw), true);
    parts.push(hdr, body);
    size += 8 + body.length;
  }
  const out = new Uint8Array(size);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

function corrupt(what: string, off: number, why: string): CodedError {
  return new CodedError("corrupt", `${what}: snappy framed stream at offset ${off}: ${why}`);
}

/** Decodes a framed stream; more than `maxBytes` of output is resource_exhausted. */
export function snappyFramedDecode(b: Uint8Array, maxBytes: number, what = "message"): Uint8Array {
  const parts: Uint8Array[] = [];
  let total = 0;
  let off = 0;
  let sawIdent = false;
  while (off < b.length) {
    if (off + 4 > b.length) throw corrupt(what, off, "truncated chunk header");
    const type = b[off]!;
    const len = b[off + 1]! | (b[off + 2]! << 8) | (b[off + 3]! << 16);
    const start = off + 4, end = start + len;
    if (end > b.length) throw corrupt(what, off, `chunk of ${len} bytes runs past the end (${b.length - start} left)`);
    const payload = b.subarray(start, end);
    if (type === 0xff) {
      if (len !== 6 || payload[0] !== 0x73 || payload[1] !== 0x4e || payload[2] !== 0x61 || payload[3] !== 0x50 || payload[4] !== 0x70 || payload[5] !== 0x59) {
        throw corrupt(what, off, "bad stream identifier");
      }
      sawIdent = true;
    } else if (!sawIdent) {
      throw corrupt(what, off, "missing stream identifier");
    } else if (type === 0x00 || type === 0x01) {
      if (len < 4) throw corrupt(what, off, "data chunk shorter than its checksum");
      const want = new DataView(payload.buffer, payload.byteOffset, 4).getUint32(0, true);
      let data: Uint8Array;
      if (type === 0x01) {
        data = payload.subarray(4);
      } else {
        try {
          data = uncompress(payload.subarray(4), MAX_BLOCK);
        } catch (e) {
          throw corrupt(what, off, `compressed chunk does not decode: ${(e as Error).message}`);
        }
      }
      if (data.length > MAX_BLOCK) throw corrupt(what, off, `chunk of ${data.length} uncompressed bytes (at most ${MAX_BLOCK})`);
      if (masked(data) !== want) throw corrupt(what, off, "checksum mismatch");
      total += data.length;
      if (total > maxBytes) throw new CodedError("resource_exhausted", `${what}: snappy framed stream decompresses past the limit of ${maxBytes} bytes`);
      parts.push(data);
    } else if (type <= 0x7f) {
      throw corrupt(what, off, `reserved unskippable chunk type 0x${type.toString(16)}`);
    } // else: skippable (padding, reserved)
    off = end;
  }
  if (parts.length === 1) return parts[0]!.slice();
  const out = new Uint8Array(total);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}
