// shared/store: external-label matching, label extension, the prefix reorderer, limits.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { compareLabels, labelsFrom, type Labels } from "../../../shared/labels/labels.ts";
import type { Matcher, MatchType } from "../../../shared/labels/matcher.ts";
import { extendLabels, externalLabelsWithout, matchExternalLabels } from "../../../shared/store/labels.ts";
import { PrefixReorderer } from "../../../shared/store/reorder.ts";
import { RequestLimiter, chunkSampleCount } from "../../../shared/store/limits.ts";
import { errorCode } from "../../../shared/encoding/errors.ts";

// Plain matchers (anchored regexes) so these tests do not depend on the matcher module's progress.
function m(type: MatchType, name: string, value: string): Matcher {
  const re = new RegExp(`^(?:${value})$`);
  const matches = type === "=" ? (v: string) => v === value : type === "!=" ? (v: string) => v !== value
    : type === "=~" ? (v: string) => re.test(v) : (v: string) => !re.test(v);
  return { type, name, value, matches };
}

const ext = labelsFrom({ cluster: "eu", replica: "r1" });

test("matchers on external labels are decided locally and stripped", () => {
  const r = matchExternalLabels([m("=", "__name__", "up"), m("=", "cluster", "eu"), m("=~", "replica", "r.*")], ext);
  assert.ok(r.match);
  assert.equal(r.rest.map((x) => x.name), ["__name__"]);
  assert.is(matchExternalLabels([m("=", "cluster", "us"), m("=", "__name__", "up")], ext).match, false);
  assert.is(matchExternalLabels([m("!=", "replica", "r1")], ext).match, false);
  // A matcher on a name that is not external passes through untouched.
  assert.equal(matchExternalLabels([m("=", "job", "x")], ext).rest.length, 1);
});

test("extendLabels is idempotent (Prometheus already merged them) and external wins", () => {
  const s = labelsFrom({ __name__: "up", job: "x" });
  const once = extendLabels(s, ext);
  assert.equal(once, labelsFrom({ __name__: "up", job: "x", cluster: "eu", replica: "r1" }));
  assert.equal(extendLabels(once, ext), once);
  assert.equal(extendLabels(labelsFrom({ a: "1", cluster: "other" }), ext), labelsFrom({ a: "1", cluster: "eu", replica: "r1" }));
  assert.equal(externalLabelsWithout(ext, ["replica"]), labelsFrom({ cluster: "eu" }));
});

// Random stored label sets, sorted as Prometheus sorts them, then external labels attached: the
// reorderer's output must equal a full sort by the final labels.
function rnd(seed: number) { return () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff); }

test("prefix reorderer restores compareLabels order after attaching external labels", () => {
  const names = ["__name__", "a", "instance", "job", "le", "zone"];
  for (let round = 0; round < 50; round++) {
    const r = rnd(round + 1);
    const seen = new Set<string>();
    const stored: Labels[] = [];
    for (let i = 0; i < 60; i++) {
      const o: Record<string, string> = { __name__: "m" + Math.floor(r() * 2) };
      for (const n of names.slice(1)) if (r() < 0.4) o[n] = String(Math.floor(r() * 2));
      const ls = labelsFrom(o);
      const k = JSON.stringify(ls);
      if (!seen.has(k)) { seen.add(k); stored.push(ls); }
    }
    stored.sort(compareLabels);
    const e = round % 2 ? ext : labelsFrom({ b: "x", replica: "r1" });
    const ro = new PrefixReorderer<Labels>(() => {});
    const got: Labels[] = [];
    for (const s of stored) got.push(...ro.push(s, extendLabels(s, e), extendLabels(s, e)));
    got.push(...ro.flush());
    const want = stored.map((s) => extendLabels(s, e)).sort(compareLabels);
    assert.equal(got, want, `round ${round}`);
    assert.is(ro.outOfOrder, 0);
  }
});

test("prefix reorderer merges a series split over consecutive frames", () => {
  const ro = new PrefixReorderer<{ ls: Labels; chunks: number[] }>((into, from) => into.chunks.push(...from.chunks));
  const a = labelsFrom({ __name__: "a" }), b = labelsFrom({ __name__: "b" });
  const out = [
    ...ro.push(a, a, { ls: a, chunks: [1] }), ...ro.push(a, a, { ls: a, chunks: [2] }),
    ...ro.push(b, b, { ls: b, chunks: [3] }), ...ro.flush(),
  ];
  assert.equal(out.map((x) => x.chunks), [[1, 2], [3]]);
});

test("limits: resource_exhausted with Thanos' message, chunk sample count from the header", () => {
  const l = new RequestLimiter(2, 100);
  l.addSeries(); l.addSeries();
  try { l.addSeries(); assert.unreachable(); } catch (e) {
    assert.is(errorCode(e), "resource_exhausted");
    assert.is((e as Error).message, "exceeded series limit: limit 2 violated (got 3)");
  }
  l.addSamples(100);
  assert.throws(() => l.addSamples(1), /exceeded samples limit: limit 100 violated \(got 101\)/);
  new RequestLimiter(0, 0).addSeries(1e9);
  assert.is(chunkSampleCount(1, new Uint8Array([0, 120, 1])), 120);
  assert.is(chunkSampleCount(1, new Uint8Array([1, 2])), 258);
});

test.run();
