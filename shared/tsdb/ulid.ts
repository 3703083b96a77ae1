// ULIDs name blocks: 48-bit ms timestamp + 80 random bits, Crockford base32, 26 chars. Block ULIDs sort
// by creation time; nothing relies on the randomness being cryptographic, so Math.random is enough.

const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

export function newUlid(timeMs: number = Date.now()): string {
  if (!Number.isInteger(timeMs) || timeMs < 0 || timeMs > 2 ** 48 - 1) throw new RangeError(`ulid time ${timeMs} out of range`);
  let s = "";
  let t = timeMs;
  for (let i = 0; i < 10; i++) {
    s = ALPHABET[t % 32]! + s;
    t = Math.floor(t / 32);
  }
  for (let i = 0; i < 16; i++) s += ALPHABET[Math.floor(Math.random() * 32)]!;
  return s;
}

const RE = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;

export function isUlid(s: string): boolean {
  return RE.test(s);
}

/** Why oklog/ulid's Parse rejects `s` ("ulid: bad data size when unmarshaling", …), or null when it is a ULID. */
export function ulidParseError(s: string): string | null {
  if (isUlid(s)) return null;
  if (s.length !== 26) return "ulid: bad data size when unmarshaling";
  if (!/^[0-9A-HJKMNP-TV-Za-hjkmnp-tv-z]{26}$/.test(s)) return "ulid: bad data characters when unmarshaling";
  return "ulid: overflow when unmarshaling";
}

/** The ms timestamp in a ULID. */
export function ulidTime(s: string): number {
  let t = 0;
  for (let i = 0; i < 10; i++) t = t * 32 + ALPHABET.indexOf(s[i]!);
  return t;
}
