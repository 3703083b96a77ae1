// bcrypt password hashes ($2a$, $2b$, $2y$: what `htpasswd -B` and Go's x/crypto/bcrypt write), for the
// `basic_auth_users` of a Prometheus web config file (--http.config). Checking only needs the hash
// function; `bcryptHash` exists for tests and tools.
//
// Format: $2<minor>$<cost, 2 digits>$<salt: 22 chars><hash: 31 chars>, in bcrypt's own base64 alphabet
// (./A-Za-z0-9, no padding). The hash is Blowfish's EksBlowfishSetup(cost, salt, password + NUL), bytes
// past 72 ignored, then "OrpheanBeholderScryDoubt" encrypted 64 times; 23 of its 24 bytes are kept.
// Blowfish's initial P-array and S-boxes are the hex digits of pi after the point: computed here once
// (Machin's formula in BigInt, ~20 ms) rather than carried as a 4 KiB table.
//
// Cost is 2^cost key expansions; cost 10 takes tens of milliseconds of CPU in JS, during which the
// event loop waits, so callers cache outcomes (agent/web/config.ts does, as exporter-toolkit does).

import { CodedError } from "./errors.ts";

const WORDS = 18 + 4 * 256;
let PI: Uint32Array | null = null;

/** The first WORDS 32-bit words of pi's fractional part in hex (Blowfish's P then S0..S3). */
function piWords(): Uint32Array {
  if (PI) return PI;
  const bits = BigInt(WORDS * 32 + 64);
  const one = 1n << bits;
  const atanInv = (x: bigint): bigint => {
    let sum = 0n, pow = one / x, k = 1n, sign = 1n;
    const x2 = x * x;
    while (pow !== 0n) {
      sum += sign * (pow / k);
      pow /= x2;
      k += 2n;
      sign = -sign;
    }
    return sum;
  };
  const frac = 16n * atanInv(5n) - 4n * atanInv(239n) - 3n * one;
  const out = new Uint32Array(WORDS);
  for (let i = 0; i < WORDS; i++) out[i] = Number((frac >> (bits - BigInt(32 * (i + 1)))) & 0xffffffffn);
  PI = out;
  return out;
}

class Blowfish {
  readonly p: Uint32Array;
  readonly s: Uint32Array; // S0..S3 back to back
  private readonly lr = new Uint32Array(2);

  constructor() {
    const w = piWords();
    this.p = w.slice(0, 18);
    this.s = w.slice(18);
  }

  /** Encrypts lr[0], lr[1] in place. */
  encrypt(lr: Uint32Array): void {
    const p = this.p, s = this.s;
    let l = lr[0]!, r = lr[1]!;
    l ^= p[0]!;
    for (let i = 1; i <= 16; i += 2) {
      r ^= (((s[l >>> 24]! + s[256 | ((l >>> 16) & 0xff)]!) ^ s[512 | ((l >>> 8) & 0xff)]!) + s[768 | (l & 0xff)]!) ^ p[i]!;
      l ^= (((s[r >>> 24]! + s[256 | ((r >>> 16) & 0xff)]!) ^ s[512 | ((r >>> 8) & 0xff)]!) + s[768 | (r & 0xff)]!) ^ p[i + 1]!;
    }
    lr[0] = r ^ p[17]!;
    lr[1] = l;
  }

  /** Blowfish key schedule, with the salt mixed in when given (bcrypt's ExpandKey). */
  expand(key: Uint8Array, salt: Uint8Array | null): void {
    let j = 0;
    const word = (b: Uint8Array): number => {
      let w = 0;
      for (let i = 0; i < 4; i++) {
        w = (w << 8) | b[j % b.length]!;
        j++;
      }
      return w >>> 0;
    };
    for (let i = 0; i < 18; i++) this.p[i] = (this.p[i]! ^ word(key)) >>> 0;
    j = 0;
    const lr = this.lr;
    lr[0] = 0; lr[1] = 0;
    const fill = (t: Uint32Array) => {
      for (let i = 0; i < t.length; i += 2) {
        if (salt) { lr[0] = (lr[0]! ^ word(salt)) >>> 0; lr[1] = (lr[1]! ^ word(salt)) >>> 0; }
        this.encrypt(lr);
        t[i] = lr[0]!;
        t[i + 1] = lr[1]!;
      }
    };
    fill(this.p);
    fill(this.s);
  }
}

const ALPHABET = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const INDEX = new Map([...ALPHABET].map((c, i) => [c, i]));

function b64Encode(b: Uint8Array): string {
  let out = "";
  for (let i = 0; i < b.length; i += 3) {
    const n = (b[i]! << 16) | ((b[i + 1] ?? 0) << 8) | (b[i + 2] ?? 0);
    const chars = i + 2 < b.length ? 4 : i + 1 < b.length ? 3 : 2;
    for (let k = 0; k < chars; k++) out += ALPHABET[(n >>> (18 - 6 * k)) & 63];
  }
  return out;
}

function b64Decode(s: string, bytes: number): Uint8Array | null {
  const out = new Uint8Array(bytes);
  let acc = 0, nbits = 0, o = 0;
  for (const c of s) {
    const v = INDEX.get(c);
    if (v === undefined) return null;
    acc = (acc << 6) | v;
    nbits += 6;
    if (nbits >= 8) {
      nbits -= 8;
      if (o < bytes) out[o++] = (acc >>> nbits) & 0xff;
    }
  }
  return o === bytes ? out : null;
}

export interface BcryptHash {
  minor: string;
  cost: number;
  salt: Uint8Array;
  /** The 31-character hash part. */
  hash: string;
}

/** Parses a bcrypt hash (Go's bcrypt.Cost checks the same); bad_data naming what is wrong. */
export function parseBcrypt(h: string): BcryptHash {
  const m = /^\$2([a-z]?)\$(\d\d)\$([./A-Za-z0-9]{22})([./A-Za-z0-9]{31})$/.exec(h);
  if (!m) throw new CodedError("bad_data", "not a bcrypt hash (want $2a$, $2b$ or $2y$, two cost digits, 53 characters of salt and hash)");
  const cost = Number(m[2]);
  if (cost < 4 || cost > 31) throw new CodedError("bad_data", `bcrypt cost ${cost} is outside 4..31`);
  const salt = b64Decode(m[3]!, 16);
  if (!salt) throw new CodedError("bad_data", "bcrypt salt does not decode");
  return { minor: m[1]!, cost, salt, hash: m[4]! };
}

const MAGIC = new TextEncoder().encode("OrpheanBeholderScryDoubt");

/** The 31-character hash of a password under a cost and 16-byte salt. */
function bcryptRaw(password: Uint8Array, cost: number, salt: Uint8Array): string {
  // password + NUL; the key schedule reads 72 bytes cyclically, so longer keys end there.
  const full = new Uint8Array(password.length + 1);
  full.set(password);
  const key = full.subarray(0, 72);
  const bf = new Blowfish();
  bf.expand(key, salt);
  for (let i = 2 ** cost; i > 0; i--) {
    bf.expand(key, null);
    bf.expand(salt, null);
  }
  const words = new Uint32Array(6);
  const dv = new DataView(MAGIC.buffer, MAGIC.byteOffset, 24);
  for (let i = 0; i < 6; i++) words[i] = dv.getUint32(i * 4);
  const lr = new Uint32Array(2);
  for (let i = 0; i < 6; i += 2) {
    lr[0] = words[i]!; lr[1] = words[i + 1]!;
    for (let k = 0; k < 64; k++) bf.encrypt(lr);
    words[i] = lr[0]!; words[i + 1] = lr[1]!;
  }
  const out = new Uint8Array(24);
  const odv = new DataView(out.buffer);
  for (let i = 0; i < 6; i++) odv.setUint32(i * 4, words[i]!);
  return b64Encode(out.subarray(0, 23));
}

/** A full $2<minor>$ hash string (tests, tools). */
export function bcryptHash(password: string, cost: number, salt: Uint8Array, minor = "a"): string {
  if (salt.length !== 16) throw new CodedError("bad_data", "bcrypt salt must be 16 bytes");
  if (cost < 4 || cost > 31) throw new CodedError("bad_data", `bcrypt cost ${cost} is outside 4..31`);
  return `$2${minor}$${String(cost).padStart(2, "0")}$${b64Encode(salt)}${bcryptRaw(new TextEncoder().encode(password), cost, salt)}`;
}

/** Whether `password` matches the bcrypt `hash` (constant time in the comparison). False for a malformed hash. */
export function bcryptVerify(password: string, hash: string): boolean {
  let h: BcryptHash;
  try {
    h = parseBcrypt(hash);
  } catch {
    return false;
  }
  const got = bcryptRaw(new TextEncoder().encode(password), h.cost, h.salt);
  let diff = 0;
  for (let i = 0; i < 31; i++) diff |= got.charCodeAt(i) ^ h.hash.charCodeAt(i);
  return diff === 0;
}
