// In-memory bucket: the reference implementation of the contract, for tests and for small edge setups.
// Objects are copied in and out so a caller mutating its buffer cannot change what is stored.

import {
  type Bucket, type IterOptions, type ObjectAttributes, type UploadData,
  checkKey, checkRange, collectBytes, compareKeys, dirPrefix, listingEntries, notFound, rangePastEnd,
} from "./bucket.ts";

interface Obj { data: Uint8Array; lastModified: Date }

export class MemoryBucket implements Bucket {
  readonly name: string;
  private readonly objects = new Map<string, Obj>();

  constructor(name = "mem") {
    this.name = name;
  }

  private obj(key: string, op: string): Obj {
    checkKey(this.name, key, op);
    const o = this.objects.get(key);
    if (!o) throw notFound(this.name, key, op);
    return o;
  }

  async get(key: string): Promise<Uint8Array> {
    return copy(this.obj(key, "get").data);
  }

  async getRange(key: string, off: number, len: number): Promise<Uint8Array> {
    checkRange(this.name, key, off, len);
    const d = this.obj(key, "get range of").data;
    if (off > d.length) throw rangePastEnd(this.name, key, off, d.length);
    return copy(d.subarray(off, len < 0 ? d.length : Math.min(d.length, off + len)));
  }

  async exists(key: string): Promise<boolean> {
    checkKey(this.name, key, "exists");
    return this.objects.has(key);
  }

  async attributes(key: string): Promise<ObjectAttributes> {
    const o = this.obj(key, "attributes of");
    return { size: o.data.length, lastModified: new Date(o.lastModified.getTime()) };
  }

  async *iter(prefix: string, opts?: IterOptions): AsyncIterable<string> {
    // Snapshot first: the listing must not change under a caller that deletes while iterating.
    const keys = [...this.objects.keys()].sort(compareKeys);
    yield* listingEntries(keys, dirPrefix(prefix), opts?.recursive ?? false);
  }

  async upload(key: string, data: UploadData): Promise<void> {
    checkKey(this.name, key, "upload");
    const bytes = await collectBytes(data, undefined, `upload ${key} to bucket ${this.name}`);
    // Stored only once complete, so a failing body leaves the old object (or none) in place.
    this.objects.set(key, { data: copy(bytes), lastModified: new Date() });
  }

  async delete(key: string): Promise<void> {
    checkKey(this.name, key, "delete");
    this.objects.delete(key);
  }

  /** Number of objects (tests). */
  get size(): number {
    return this.objects.size;
  }
}

/** new + set: about twice as fast as slice() on Node and Bun (measured for 16 KiB ranges). */
function copy(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(b.length);
  out.set(b);
  return out;
}
