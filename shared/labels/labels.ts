import { xxhash64Into } from "../encoding/xxhash64.ts";

// Label sets: always sorted by name, names unique. The StoreAPI stream order is compareLabels order.

export interface Label {
  name: string;
  value: string;
}

/** Sorted by name, unique names. Treat as immutable. */
export type Labels = readonly Label[];

export const METRIC_NAME = "__name__";

function cmpStr(a: string, b: string): number {
  // Go compares strings bytewise (UTF-8); JS compares UTF-16 code units. They agree except for
  // characters outside the BMP vs U+E000–U+FFFF; handle that case exactly.
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i), y = b.charCodeAt(i);
    if (x !== y) {
      const xs = x >= 0xd800 && x <= 0xdfff, ys = y >= 0xd800 && y <= 0xdfff;
      if (xs !== ys) return xs ? (y >= 0xe000 ? 1 : x < y ? -1 : 1) : (x >= 0xe000 ? -1 : x < y ? -1 : 1);
      return x < y ? -1 : 1;
    }
  }
  return a.length - b.length < 0 ? -1 : a.length === b.length ? 0 : 1;
}
export { cmpStr as compareStrings };

/** Prometheus labels.Compare: by name, then value, pairwise; shorter set first when a prefix. */
export function compareLabels(a: Labels, b: Labels): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!, y = b[i]!;
    if (x.name !== y.name) return cmpStr(x.name, y.name);
    if (x.value !== y.value) return cmpStr(x.value, y.value);
  }
  return a.length - b.length;
}

export function labelsEqual(a: Labels, b: Labels): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i]!.name !== b[i]!.name || a[i]!.value !== b[i]!.value) return false;
  return true;
}

/** Build a sorted label set from pairs or an object; empty values are dropped (as Prometheus does). */
export function labelsFrom(src: Record<string, string> | Iterable<Label>): Labels {
  const out: Label[] = [];
  if (Symbol.iterator in (src as object)) {
    for (const l of src as Iterable<Label>) if (l.value !== "") out.push({ name: l.name, value: l.value });
  } else {
    for (const [name, value] of Object.entries(src as Record<string, string>)) if (value !== "") out.push({ name, value });
  }
  out.sort((x, y) => cmpStr(x.name, y.name));
  for (let i = 1; i < out.length; i++) {
    if (out[i]!.name === out[i - 1]!.name) throw new Error(`duplicate label name ${JSON.stringify(out[i]!.name)}`);
  }
  return out;
}

export function getLabel(ls: Labels, name: string): string {
  for (const l of ls) if (l.name === name) return l.value;
  return "";
}

/** Prometheus labels.String(): {a="b", c="d"}, values quoted like Go %q (strconv.Quote). */
export function labelsString(ls: Labels): string {
  let s = "{";
  for (let i = 0; i < ls.length; i++) {
    if (i > 0) s += ", ";
    s += ls[i]!.name + "=" + goQuote(ls[i]!.value);
  }
  return s + "}";
}

// Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space. Every
// other space (U+00A0, U+2028...), format char (U+00AD, U+FEFF, U+200D), private-use and unassigned
// code point is escaped. Go 1.19 ships Unicode 13 tables while JS engines have 15, so a code point
// assigned in between prints raw here and escaped by Prometheus 2.42.
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;
const HEX = "0123456789abcdef";
// Printable ASCII except " and \: quoted as is.
const PLAIN_ASCII = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

function hex(n: number, width: number): string {
  let s = "";
  for (let i = width - 1; i >= 0; i--) s += HEX[(n >>> (4 * i)) & 0xf];
  return s;
}

/**
 * Go strconv.Quote (what %q prints): "..." with \a \b \f \n \r \t \v \\ \" escapes, \xNN below
 * U+0020 and for U+007F, \uNNNN / \UNNNNNNNN for other non-printable code points; printable
 * non-ASCII is kept as is. A lone surrogate (which Go never sees: it becomes U+FFFD when encoded to
 * UTF-8) is printed as U+FFFD.
 */
export function goQuote(s: string): string {
  if (PLAIN_ASCII.test(s)) return '"' + s + '"';
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f) {
      out += c === 0x22 ? '\\"' : c === 0x5c ? "\\\\" : s[i];
      continue;
    }
    if (c < 0x20 || c === 0x7f) {
      switch (c) {
        case 0x07: out += "\\a"; break;
        case 0x08: out += "\\b"; break;
        case 0x0c: out += "\\f"; break;
        case 0x0a: out += "\\n"; break;
        case 0x0d: out += "\\r"; break;
        case 0x09: out += "\\t"; break;
        case 0x0b: out += "\\v"; break;
        default: out += "\\x" + hex(c, 2);
      }
      continue;
    }
    let ch: string;
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      c = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(i + 1) - 0xdc00);
      ch = s.slice(i, i + 2);
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      c = 0xfffd;
      ch = "\ufffd";
    } else {
      ch = s[i]!;
    }
    if (PRINTABLE.test(ch)) out += ch;
    else if (c < 0x10000) out += "\\u" + hex(c, 4);
    else out += "\\U" + hex(c, 8);
  }
  return out + '"';
}

// Scratch buffer for labelsHash: grown on demand, never shrunk (label sets are small).
let hashBuf = new Uint8Array(1024);
const hashOut = new Uint32Array(2);

/** Append s as UTF-8 at pos (lone surrogates as U+FFFD, like TextEncoder); returns the new end. */
function putUtf8(s: string, pos: number): number {
  if (pos + s.length * 3 > hashBuf.length) {
    const n = new Uint8Array(Math.max(hashBuf.length * 2, pos + s.length * 3 + 16));
    n.set(hashBuf.subarray(0, pos));
    hashBuf = n;
  }
  const b = hashBuf;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) { b[pos++] = c; continue; }
    if (c < 0x800) { b[pos++] = 0xc0 | (c >> 6); b[pos++] = 0x80 | (c & 0x3f); continue; }
    if (c >= 0xd800 && c <= 0xdfff) {
      const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
      if (c <= 0xdbff && (d & 0xfc00) === 0xdc00) {
        c = 0x10000 + ((c - 0xd800) << 10) + (d - 0xdc00);
        i++;
        b[pos++] = 0xf0 | (c >> 18); b[pos++] = 0x80 | ((c >> 12) & 0x3f);
        b[pos++] = 0x80 | ((c >> 6) & 0x3f); b[pos++] = 0x80 | (c & 0x3f);
        continue;
      }
      c = 0xfffd;
    }
    b[pos++] = 0xe0 | (c >> 12); b[pos++] = 0x80 | ((c >> 6) & 0x3f); b[pos++] = 0x80 | (c & 0x3f);
  }
  return pos;
}

/** Bytes hashed by Prometheus labels.Hash: name, 0xff, value, 0xff for each label, in order. */
function hashLayout(ls: Labels, keep: ((name: string) => boolean) | null): number {
  let pos = 0;
  for (const l of ls) {
    if (keep !== null && !keep(l.name)) continue;
    pos = putUtf8(l.name, pos);
    pos = putUtf8(l.value, putSep(pos));
    pos = putSep(pos);
  }
  return pos;
}

function putSep(pos: number): number {
  if (pos >= hashBuf.length) {
    const n = new Uint8Array(hashBuf.length * 2);
    n.set(hashBuf);
    hashBuf = n;
  }
  hashBuf[pos] = 0xff;
  return pos + 1;
}

function toBig(): bigint {
  return (BigInt(hashOut[0]!) << 32n) | BigInt(hashOut[1]!);
}

/**
 * Prometheus labels.Hash (2.42 and since): xxhash64 (seed 0) over name 0xff value 0xff per label. The
 * same value on every runtime and equal to Go's, so it may be persisted or compared across processes.
 */
export function labelsHash(ls: Labels): bigint {
  const n = hashLayout(ls, null); // first: it may replace hashBuf with a bigger one
  xxhash64Into(hashBuf, hashOut, 0, 0, n);
  return toBig();
}

/** labelsHash as a (hi, lo) uint32 pair in out, without allocating a bigint (for hot paths). */
export function labelsHashInto(ls: Labels, out: Uint32Array): void {
  const n = hashLayout(ls, null);
  xxhash64Into(hashBuf, out, 0, 0, n);
}

/**
 * Prometheus HashForLabels / HashWithoutLabels: the hash of only the labels named in `names`
 * (without=false) or of all but those and __name__ (without=true, as Prometheus drops the metric name).
 */
export function labelsHashFor(ls: Labels, names: ReadonlySet<string>, without = false): bigint {
  const keep = without ? (n: string) => n !== METRIC_NAME && !names.has(n) : (n: string) => names.has(n);
  const n = hashLayout(ls, keep);
  xxhash64Into(hashBuf, hashOut, 0, 0, n);
  return toBig();
}

