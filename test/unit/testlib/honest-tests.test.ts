// No assertion that only runs when a call throws: a `catch` block that asserts on the error must belong to
// a `try` that fails when nothing is thrown. Accepted shapes:
//   try { call(); assert.unreachable(...) } catch (e) { assert... }
//   try { call(); } catch (e) { assert...; return } assert.unreachable(...)     (or any assertion, or throw, after it:
//                                                                               the path without a throw asserts too)
//   try { call(); } catch (e) { assert...; continue }                             (a loop's other branch)
//   try { call(); } catch (e) { errors++ / x = ... / m.set(...) / a.push(...); assert... }  (recorded, checked after)
// Anything else is the defect this test exists for: `try { await f() } catch (e) { assert.is(code(e), ...) }`
// passes when f() succeeds.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

const root = join(import.meta.dirname ?? new URL(".", import.meta.url).pathname, "..", "..", "..");

function files(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir)) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) { if (e !== "node_modules" && e !== "runner-fixtures") out.push(...files(p)); } else if (/\.(ts|mjs)$/.test(e)) out.push(p);
  }
  return out;
}

/**
 * The source with the insides of strings, template literals, regular expressions and comments blanked
 * (same length, newlines kept), so that braces and keywords in them do not count.
 */
function blank(src: string): string {
  const out = src.split("");
  const clear = (from: number, to: number) => { for (let k = from; k < to; k++) if (out[k] !== "\n") out[k] = " "; };
  let prev = ""; // last significant character outside literals
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (c === "/" && src[i + 1] === "/") {
      const e = src.indexOf("\n", i); const end = e < 0 ? src.length : e;
      clear(i, end); i = end - 1; continue;
    }
    if (c === "/" && src[i + 1] === "*") {
      const e = src.indexOf("*/", i + 2); const end = e < 0 ? src.length : e + 2;
      clear(i, end); i = end - 1; continue;
    }
    if (c === '"' || c === "'" || c === "`" || (c === "/" && (prev === "" || "(,=:[!&|?{};+-*%<>~^".includes(prev)))) {
      let j = i + 1, inClass = false;
      for (; j < src.length; j++) {
        const d = src[j]!;
        if (d === "\\") { j++; continue; }
        if (c === "/" && d === "[") inClass = true;
        else if (c === "/" && d === "]") inClass = false;
        else if (d === c && !inClass) break;
        else if (d === "\n" && c !== "`") break; // not a literal after all
      }
      clear(i + 1, j); i = j; prev = "x"; continue;
    }
    if (!/\s/.test(c)) prev = c;
  }
  return out.join("");
}

/** Index just past the brace that closes the one at `open` (in blanked source). */
function closeBrace(src: string, open: number): number {
  let depth = 0;
  for (let i = open; i < src.length; i++) {
    if (src[i] === "{") depth++;
    else if (src[i] === "}" && --depth === 0) return i + 1;
  }
  return src.length;
}

/** Every try/catch whose catch block asserts but whose shape does not fail when nothing is thrown. */
function catchOnlyAssertions(original: string): { line: number; text: string }[] {
  const src = blank(original);
  const out: { line: number; text: string }[] = [];
  for (const m of src.matchAll(/\btry\s*\{/g)) {
    const tryOpen = m.index! + m[0].length - 1;
    const tryEnd = closeBrace(src, tryOpen);
    const c = /^\s*catch\s*(\([^)]*\))?\s*\{/.exec(src.slice(tryEnd));
    if (!c) continue;
    const catchOpen = tryEnd + c[0].length - 1;
    const catchEnd = closeBrace(src, catchOpen);
    const tryBody = src.slice(tryOpen + 1, tryEnd - 1);
    const catchBody = src.slice(catchOpen + 1, catchEnd - 1);
    const after = src.slice(catchEnd).trimStart();
    if (!/\bassert\./.test(catchBody)) continue;
    if (/assert\.unreachable\(/.test(tryBody)) continue;
    if (/\b(return|break)\b/.test(catchBody) && /^(assert\.|throw\b)/.test(after)) continue;
    if (/\bcontinue\b/.test(catchBody)) continue;
    if (/\+\+|\+=|\.set\(|\.push\(|(^|[;{\s])[A-Za-z_$][\w$]*\s*=[^=]/.test(catchBody)) continue;
    out.push({ line: src.slice(0, m.index).split("\n").length, text: original.slice(m.index, catchEnd).replace(/\s+/g, " ").slice(0, 160) });
  }
  return out;
}

test("the checker flags assertions that only run on a throw, and passes the accepted shapes", () => {
  const bad = [
    'try { await f(); } catch (e) { assert.is(errorCode(e), "x"); }',
    'try { await f(); } catch (e) { assert.is(errorCode(e), "x"); return; }\n  count++;',
    "try {\n  await retry(op);\n} catch (e) {\n  assert.match(e.message, \"giving up\");\n}\nassert.is(n, 3);",
  ];
  for (const b of bad) assert.is(catchOnlyAssertions(b).length, 1, b);
  const good = [
    'try { await f(); assert.unreachable("should fail"); } catch (e) { assert.is(errorCode(e), "x"); }',
    'try { f(); } catch (e) { assert.is(errorCode(e), "x"); return; }\n  assert.unreachable("no error");',
    'try { v = parse(l); } catch (e) { assert.ok(goRejects, "both reject"); return; }\n  assert.ok(!goRejects, "both parse");',
    'for (const p of ps) { try { g(p); } catch { assert.throws(() => h(p)); continue; } assert.ok(h(p)); }',
    'try { d(x); } catch (e) { errors++; assert.is(errorCode(e), "corrupt"); }',
    'try { await b.get("x"); code = "no error"; } catch (e) { code = errorCode(e); assert.match(e.message, "x"); }',
    'try { await f(); } catch (e) { console.log("{"); }',
  ];
  for (const g of good) assert.equal(catchOnlyAssertions(g), [], g);
});

test("no test file asserts only inside a catch", () => {
  const found: string[] = [];
  for (const dir of ["test", "bench"]) {
    for (const f of files(join(root, dir))) {
      for (const x of catchOnlyAssertions(readFileSync(f, "utf8"))) found.push(`${relative(root, f)}:${x.line}: ${x.text}`);
    }
  }
  assert.equal(found, [], `assertions that pass when nothing throws:\n${found.join("\n")}`);
});

test.run();
