// Thanos' top-level `prefix:` in the objstore config: every key lives under "<prefix>/" in the real
// bucket, and callers see keys without it.

import type { Bucket, IterOptions, ObjectAttributes, UploadData } from "./bucket.ts";

export function withPrefix(inner: Bucket, prefix: string): Bucket {
  const p = prefix.replace(/^\/+|\/+$/g, "");
  return p === "" ? inner : new PrefixedBucket(inner, p + "/");
}

class PrefixedBucket implements Bucket {
  readonly name: string;
  constructor(private readonly inner: Bucket, private readonly p: string) {
    this.name = `${inner.name}/${p.slice(0, -1)}`;
  }
  get(key: string): Promise<Uint8Array> { return this.inner.get(this.p + key); }
  getRange(key: string, off: number, len: number): Promise<Uint8Array> { return this.inner.getRange(this.p + key, off, len); }
  exists(key: string): Promise<boolean> { return this.inner.exists(this.p + key); }
  attributes(key: string): Promise<ObjectAttributes> { return this.inner.attributes(this.p + key); }
  upload(key: string, data: UploadData): Promise<void> { return this.inner.upload(this.p + key, data); }
  delete(key: string): Promise<void> { return this.inner.delete(this.p + key); }
  async *iter(prefix: string, opts?: IterOptions): AsyncIterable<string> {
    // Listing "" under a prefix must list the prefix directory itself, not the bucket root.
    const dir = prefix === "" || prefix === "/" ? this.p : this.p + prefix;
    for await (const k of this.inner.iter(dir, opts)) yield k.slice(this.p.length);
  }
}
