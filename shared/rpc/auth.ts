// Bearer-token checks for the RPC servers.

const enc = new TextEncoder();

/**
 * Compare two secrets without an early exit, so the time taken does not reveal how long a matching
 * prefix was. (The length of the expected token can leak; that is accepted practice.)
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const x = enc.encode(a), y = enc.encode(b);
  const n = Math.max(x.length, y.length);
  let diff = x.length ^ y.length;
  for (let i = 0; i < n; i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

/** Does an Authorization header value carry this bearer token? */
export function bearerMatches(header: string | null | undefined, token: string): boolean {
  if (!header) return false;
  const m = /^\s*bearer\s+(.*?)\s*$/i.exec(header);
  return m !== null && constantTimeEqual(m[1]!, token);
}
