// The committed shared/gen/ must be exactly what `npm run gen` produces from proto/ now: regenerate
// into a temp dir with the same buf template and compare every file.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { tempDir } from "../../lib/proc.ts";

const root = new URL("../../../", import.meta.url).pathname;

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p, out);
    else out.push(p);
  }
  return out;
}

test("shared/gen is up to date with proto/ (run `npm run gen` if this fails)", () => {
  const tmp = tempDir("thanots-gen-");
  try {
    // -o: output base; the template's `out: shared/gen` lands under it.
    const r = spawnSync(join(root, "node_modules/.bin/buf"), ["generate", "-o", tmp.path], { cwd: root, encoding: "utf8" });
    assert.is(r.status, 0, `buf generate failed: ${r.stderr}`);
    const fresh = join(tmp.path, "shared/gen"), committed = join(root, "shared/gen");
    const a = walk(fresh).map((p) => relative(fresh, p)).sort();
    const b = walk(committed).map((p) => relative(committed, p)).sort();
    assert.equal(b, a, "generated file list differs");
    for (const f of a) {
      const x = readFileSync(join(fresh, f), "utf8"), y = readFileSync(join(committed, f), "utf8");
      assert.ok(x === y, `shared/gen/${f} differs from a fresh generation`);
    }
    assert.ok(a.length >= 8);
  } finally {
    tmp.remove();
  }
});

test.run();
