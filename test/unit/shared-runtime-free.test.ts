// shared/ must run unchanged on Workers: no runtime API (Bun.*, Deno.*, node:* modules, process), not even
// named in a comment, so a search for them finds only the adapters in agent/ and edge/. The typecheck
// ("types": [] in shared/tsconfig.json) catches uses; this catches the text, generated code aside.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "../../shared");
const FORBIDDEN = /\bBun\.[A-Za-z*]|\bDeno\.[A-Za-z*]|\bnode:[a-z*]|\bprocess\.[a-z]|\brequire\(|from "bun/;

function* files(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) { if (relative(root, p) !== "gen") yield* files(p); }
    else if (/\.(ts|mts|js|mjs)$/.test(name)) yield p;
  }
}

test("shared/ names no runtime API (Bun, Deno, node:*, process)", () => {
  const hits: string[] = [];
  let n = 0;
  for (const f of files(root)) {
    n++;
    readFileSync(f, "utf8").split("\n").forEach((line, i) => {
      if (FORBIDDEN.test(line)) hits.push(`shared/${relative(root, f)}:${i + 1}: ${line.trim()}`);
    });
  }
  assert.ok(n > 100, `read ${n} files under ${root}`);
  assert.equal(hits, []);
});

test.run();
