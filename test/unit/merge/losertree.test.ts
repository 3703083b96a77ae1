import { test } from "uvu";
import * as assert from "uvu/assert";
import { LoserTree, mergeSorted } from "../../../shared/merge/losertree.ts";

const lt = (a: number, b: number) => a < b;

// A deterministic pseudo-random source (no Math.random: failures must reproduce).
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; };
}

test("merges any number of sorted lists into the sorted union, duplicates kept", () => {
  const r = rng(7);
  for (let k = 0; k <= 17; k++) {
    for (let round = 0; round < 20; round++) {
      const lists = Array.from({ length: k }, () => Array.from({ length: Math.floor(r() * 12) }, () => Math.floor(r() * 30)).sort((a, b) => a - b));
      const want = lists.flat().sort((a, b) => a - b);
      assert.equal([...mergeSorted(lists, lt)], want, `k=${k} lists=${JSON.stringify(lists)}`);
    }
  }
});

test("ties go to the lower source index (stable)", () => {
  const lists = [[1, 2], [1, 2], [0, 1]].map((l, src) => l.map((v) => ({ v, src })));
  const got = [...mergeSorted(lists, (a, b) => a.v < b.v)].map((x) => `${x.v}:${x.src}`);
  assert.equal(got, ["0:2", "1:0", "1:1", "1:2", "2:0", "2:1"]);
});

test("empty: no sources, or only exhausted ones", () => {
  assert.is(new LoserTree<number>([], lt).winner(), -1);
  assert.is(new LoserTree<number>([undefined, undefined], lt).winner(), -1);
});

test("replace refuses a source that is not the winner", () => {
  const t = new LoserTree([3, 1, 2], lt);
  assert.is(t.winner(), 1);
  assert.throws(() => t.replace(0, 5), /winner is 1/);
});

test("sources refilled between advances (the async-store pattern)", () => {
  const t = new LoserTree<number>([5, 1, undefined], lt);
  const out: number[] = [];
  const more: number[][] = [[9], [2, 8], []];
  for (let w = t.winner(); w >= 0; w = t.winner()) {
    out.push(t.head(w)!);
    t.replace(w, more[w]!.shift());
  }
  assert.equal(out, [1, 2, 5, 8, 9]);
});

test.run();
