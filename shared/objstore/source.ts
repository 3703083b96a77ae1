// A ByteSource over one bucket object: block readers read index and chunk ranges through it with ranged
// GETs, never downloading the whole object.

import { CodedError, errorCode, errorMessage } from "../encoding/errors.ts";
import type { ByteSource } from "../tsdb/source.ts";
import type { Bucket } from "./bucket.ts";

/** `size` may be given when already known (from a listing or meta.json) to save the HEAD request. */
export function bucketSource(bkt: Bucket, key: string, opts: { size?: number } = {}): ByteSource {
  const name = `${key} in bucket ${bkt.name}`;
  let size: Promise<number> | undefined = opts.size !== undefined ? Promise.resolve(opts.size) : undefined;
  return {
    name,
    size() {
      if (!size) {
        size = bkt.attributes(key).then((a) => a.size);
        size.catch(() => { size = undefined; }); // a failed HEAD is retried by the next caller
      }
      return size;
    },
    async read(offset, length) {
      if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
        throw new CodedError("corrupt", `read ${name}: invalid range of ${length} bytes at offset ${offset}`);
      }
      if (length === 0) return new Uint8Array(0);
      let b: Uint8Array;
      try {
        b = await bkt.getRange(key, offset, length);
      } catch (e) {
        // Past the end is what a damaged offset looks like: report it as corrupt data, like a short read.
        if (errorCode(e) === "bad_data") throw new CodedError("corrupt", `read ${name}: range [${offset}, ${offset + length}): ${errorMessage(e)}`, { cause: e });
        throw e;
      }
      if (b.length !== length) {
        throw new CodedError("corrupt", `read ${name}: range [${offset}, ${offset + length}) is outside the object (got ${b.length} bytes)`);
      }
      return b;
    },
  };
}
