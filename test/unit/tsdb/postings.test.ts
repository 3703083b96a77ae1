import { test } from "uvu";
import * as assert from "uvu/assert";
import { BigEndianPostings, emptyPostings, expandPostings, intersect, ListPostings, merge, without } from "../../../shared/tsdb/postings.ts";

const L = (...v: number[]) => new ListPostings(v);

test("intersect: leapfrog over several lists, with empty and disjoint inputs", () => {
  assert.equal(expandPostings(intersect([L(1, 2, 3, 5, 8, 13), L(2, 3, 5, 7, 11, 13), L(0, 3, 5, 13, 21)])), [3, 5, 13]);
  assert.equal(expandPostings(intersect([L(1, 2), L(3, 4)])), []);
  assert.equal(expandPostings(intersect([L(1, 2), emptyPostings()])), []);
  assert.equal(expandPostings(intersect([L(4, 9)])), [4, 9]);
});

test("merge: union without duplicates; seek inside a merge", () => {
  assert.equal(expandPostings(merge([L(1, 4, 9), L(2, 4, 10), L(), L(4, 11)])), [1, 2, 4, 9, 10, 11]);
  const m = merge([L(1, 5, 9), L(2, 6, 10)]);
  assert.ok(m.seek(6)); assert.is(m.at(), 6);
  assert.ok(m.next()); assert.is(m.at(), 9);
  assert.ok(m.seek(3)); assert.is(m.at(), 9); // seek never moves back
  assert.ok(m.next()); assert.is(m.at(), 10);
  assert.not.ok(m.next());
});

test("without: subtracts, including when drop runs out first or is empty", () => {
  assert.equal(expandPostings(without(L(1, 2, 3, 4, 5, 6), L(2, 4, 7))), [1, 3, 5, 6]);
  assert.equal(expandPostings(without(L(1, 2, 3), L())), [1, 2, 3]);
  assert.equal(expandPostings(without(L(1, 2, 3), L(1, 2, 3))), []);
  assert.equal(expandPostings(without(intersect([L(1, 2, 3, 4), L(2, 3, 4)]), merge([L(3), L(9)]))), [2, 4]);
});

test("big-endian postings: reads refs in place and seeks by binary search", () => {
  const b = new Uint8Array(4 + 5 * 4);
  const dv = new DataView(b.buffer);
  [3, 7, 70000, 2 ** 31 + 5, 0xffffffff].forEach((v, i) => dv.setUint32(4 + i * 4, v));
  assert.equal(expandPostings(new BigEndianPostings(b, 4, 5)), [3, 7, 70000, 2 ** 31 + 5, 0xffffffff]);
  const p = new BigEndianPostings(b, 4, 5);
  assert.ok(p.seek(8)); assert.is(p.at(), 70000);
  assert.ok(p.seek(2 ** 31)); assert.is(p.at(), 2 ** 31 + 5);
  assert.not.ok(p.seek(2 ** 32));
});

test.run();
