// Binary operators (Prometheus 2.42 engine.go VectorBinop, VectorAnd/Or/Unless, VectorscalarBinop,
// scalarBinop). Per-node caches are keyed by metric identity: the same Labels object recurs at every
// step, so signatures and result label sets are computed once per series, not once per sample.

import { labelsString, METRIC_NAME, type Labels } from "../labels/labels.ts";
import { CodedError } from "../encoding/errors.ts";
import type { BinaryOp, VectorMatching } from "./ast.ts";
import type { Vector } from "./value.ts";
import { dropMetricName, goAtan2, goPow, labelsKey, setLabel, signature } from "./value.ts";

export class BinopCache {
  sigL = new WeakMap<Labels, string>();
  sigR = new WeakMap<Labels, string>();
  names: Set<string> | null = null;
  result = new WeakMap<Labels, WeakMap<Labels, Labels>>();
  dropped = new WeakMap<Labels, Labels>();
}

function isComparison(op: BinaryOp): boolean {
  return op === "==" || op === "!=" || op === ">" || op === "<" || op === ">=" || op === "<=";
}

function dropsName(op: BinaryOp): boolean {
  // atan2 keeps __name__ in 2.42 (it was not in shouldDropMetricName).
  return op === "+" || op === "-" || op === "*" || op === "/" || op === "^" || op === "%";
}

/** [value, keep]. */
function elemBinop(op: BinaryOp, l: number, r: number): [number, boolean] {
  switch (op) {
    case "+": return [l + r, true];
    case "-": return [l - r, true];
    case "*": return [l * r, true];
    case "/": return [l / r, true];
    case "^": return [goPow(l, r), true];
    case "%": return [l % r, true];
    case "atan2": return [goAtan2(l, r), true];
    case "==": return [l, l === r];
    case "!=": return [l, l !== r];
    case ">": return [l, l > r];
    case "<": return [l, l < r];
    case ">=": return [l, l >= r];
    case "<=": return [l, l <= r];
  }
  throw new CodedError("execution", `operator ${JSON.stringify(op)} not allowed for float operations`);
}

export function scalarBinop(op: BinaryOp, l: number, r: number): number {
  if (isComparison(op)) return elemBinop(op, l, r)[1] ? 1 : 0;
  return elemBinop(op, l, r)[0];
}

function sig(cache: BinopCache, side: "L" | "R", ls: Labels, m: VectorMatching): string {
  const map = side === "L" ? cache.sigL : cache.sigR;
  let s = map.get(ls);
  if (s === undefined) {
    cache.names ??= new Set(m.matchingLabels);
    s = signature(ls, m.on, cache.names);
    map.set(ls, s);
  }
  return s;
}

function matchLabels(ls: Labels, on: boolean, names: string[]): Labels {
  const set = new Set(names);
  return ls.filter((l) => set.has(l.name) === on && (on || l.name !== METRIC_NAME));
}

function resultMetric(lhs: Labels, rhs: Labels, op: BinaryOp, m: VectorMatching, cache: BinopCache): Labels {
  let inner = cache.result.get(lhs);
  if (!inner) { inner = new WeakMap(); cache.result.set(lhs, inner); }
  const hit = inner.get(rhs);
  if (hit) return hit;
  let out: Labels = lhs;
  if (dropsName(op)) out = dropMetricName(out);
  if (m.card === "one-to-one") {
    const set = new Set(m.matchingLabels);
    out = m.on ? out.filter((l) => set.has(l.name)) : out.filter((l) => !set.has(l.name));
  }
  for (const name of m.include) {
    let v = "";
    for (const l of rhs) if (l.name === name) { v = l.value; break; }
    out = setLabel(out, name, v);
  }
  inner.set(rhs, out);
  return out;
}

export function vectorBinop(op: BinaryOp, lhs: Vector, rhs: Vector, m: VectorMatching, returnBool: boolean, cache: BinopCache): Vector {
  if (m.card === "many-to-many") throw new CodedError("execution", "many-to-many only allowed for set operators");
  // 2.42 returns before building the match table, so an empty side hides duplicate-match errors.
  if (lhs.length === 0 || rhs.length === 0) return [];
  const swap = m.card === "one-to-many";
  if (swap) [lhs, rhs] = [rhs, lhs];
  const sideL = swap ? "R" : "L", sideR = swap ? "L" : "R";
  const right = new Map<string, Vector[number]>();
  for (const rs of rhs) {
    const s = sig(cache, sideR, rs.metric, m);
    const dup = right.get(s);
    if (dup) {
      const oneSide = swap ? "left" : "right";
      throw new CodedError("execution",
        `found duplicate series for the match group ${labelsString(matchLabels(rs.metric, m.on, m.matchingLabels))} on the ${oneSide} hand-side of the operation: ` +
        `[${labelsString(rs.metric)}, ${labelsString(dup.metric)}];many-to-many matching not allowed: matching labels must be unique on one side`);
    }
    right.set(s, rs);
  }
  const matched = new Map<string, Set<string> | null>();
  const out: Vector = [];
  for (const ls of lhs) {
    const s = sig(cache, sideL, ls.metric, m);
    const rs = right.get(s);
    if (!rs) continue;
    let vl = ls.v, vr = rs.v;
    if (swap) [vl, vr] = [vr, vl];
    let [value, keep] = elemBinop(op, vl, vr);
    if (returnBool) value = keep ? 1 : 0;
    else if (!keep) continue;
    let metric = resultMetric(ls.metric, rs.metric, op, m, cache);
    if (returnBool) metric = dropMetricName(metric);
    if (m.card === "one-to-one") {
      if (matched.has(s)) throw new CodedError("execution", "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)");
      matched.set(s, null);
    } else {
      let set = matched.get(s);
      if (!set) { set = new Set(); matched.set(s, set); }
      const key = labelsKey(metric);
      if (set.has(key)) throw new CodedError("execution", "multiple matches for matching labels: grouping labels must ensure unique matches");
      set.add(key);
    }
    out.push({ metric, t: ls.t, v: value });
  }
  return out;
}

export function vectorScalarBinop(op: BinaryOp, vec: Vector, scalar: number, swap: boolean, returnBool: boolean, cache: BinopCache): Vector {
  const out: Vector = [];
  const cmp = isComparison(op);
  const drop = dropsName(op) || returnBool;
  for (const s of vec) {
    let l = s.v, r = scalar;
    if (swap) [l, r] = [r, l];
    let [value, keep] = elemBinop(op, l, r);
    // A scalar on the left of a comparison still filters by the vector element's value.
    if (cmp && swap) value = r;
    if (returnBool) { value = keep ? 1 : 0; keep = true; }
    if (!keep) continue;
    let metric = s.metric;
    if (drop) {
      let d = cache.dropped.get(metric);
      if (!d) { d = dropMetricName(metric); cache.dropped.set(metric, d); }
      metric = d;
    }
    out.push({ metric, t: s.t, v: value });
  }
  return out;
}

export function setOp(op: "and" | "or" | "unless", lhs: Vector, rhs: Vector, m: VectorMatching, cache: BinopCache): Vector {
  switch (op) {
    case "and": {
      if (lhs.length === 0 || rhs.length === 0) return [];
      const right = new Set<string>();
      for (const rs of rhs) right.add(sig(cache, "R", rs.metric, m));
      return lhs.filter((ls) => right.has(sig(cache, "L", ls.metric, m)));
    }
    case "or": {
      if (lhs.length === 0) return rhs.slice();
      if (rhs.length === 0) return lhs.slice();
      const left = new Set<string>();
      const out: Vector = [];
      for (const ls of lhs) { left.add(sig(cache, "L", ls.metric, m)); out.push(ls); }
      for (const rs of rhs) if (!left.has(sig(cache, "R", rs.metric, m))) out.push(rs);
      return out;
    }
    case "unless": {
      if (lhs.length === 0 || rhs.length === 0) return lhs.slice();
      const right = new Set<string>();
      for (const rs of rhs) right.add(sig(cache, "R", rs.metric, m));
      return lhs.filter((ls) => !right.has(sig(cache, "L", ls.metric, m)));
    }
  }
}
