// Aggregation operators over one step's vector (Prometheus 2.42 engine.go aggregation()). Groups come
// out in order of first appearance; topk/bottomk use Go's container/heap and a final insertion sort so
// ties come out in the order Prometheus gives them for small k.

import type { Labels } from "../labels/labels.ts";
import { METRIC_NAME } from "../labels/labels.ts";
import { CodedError } from "../encoding/errors.ts";
import type { AggregateOp } from "./ast.ts";
import type { Sample, Vector } from "./value.ts";
import { convertibleToInt64, formatFloatF, formatFloatV, keepLabels, setLabel, signature } from "./value.ts";
import { meanStep, quantile } from "./functions.ts";

interface Group {
  labels: Labels;
  value: number;
  mean: number;
  count: number;
  heap: Sample[];
  vals: number[];
}

type Less = (a: Sample, b: Sample) => boolean;
// vectorByValueHeap / vectorByReverseValueHeap: NaN is "less" than everything, so it leaves first.
const lessAsc: Less = (a, b) => Number.isNaN(a.v) || a.v < b.v;
const lessDesc: Less = (a, b) => Number.isNaN(a.v) || a.v > b.v;

function heapUp(h: Sample[], j: number, less: Less): void {
  for (;;) {
    const i = Math.trunc((j - 1) / 2);
    if (i === j || !less(h[j]!, h[i]!)) break;
    const t = h[i]!; h[i] = h[j]!; h[j] = t;
    j = i;
  }
}

function heapDown(h: Sample[], i0: number, n: number, less: Less): boolean {
  let i = i0;
  for (;;) {
    const j1 = 2 * i + 1;
    if (j1 >= n) break;
    let j = j1;
    const j2 = j1 + 1;
    if (j2 < n && less(h[j2]!, h[j1]!)) j = j2;
    if (!less(h[j]!, h[i]!)) break;
    const t = h[i]!; h[i] = h[j]!; h[j] = t;
    i = j;
  }
  return i > i0;
}

/**
 * heap.Pop then heap.Push. Not "overwrite the root and Fix": with ties the two differ in which equal
 * element survives, and Prometheus 2.42's answers (checked against it) match Pop+Push.
 */
function heapReplace(h: Sample[], s: Sample, less: Less): void {
  const n = h.length - 1;
  const t = h[0]!; h[0] = h[n]!; h[n] = t;
  heapDown(h, 0, n, less);
  h[n] = s;
  heapUp(h, n, less);
}

/** sort.Sort(sort.Reverse(heap)): Go uses insertion sort below 13 elements, which we copy exactly. */
function sortReverse(h: Sample[], less: Less): void {
  const rless = (a: Sample, b: Sample) => less(b, a);
  if (h.length <= 12) {
    for (let i = 1; i < h.length; i++) {
      for (let j = i; j > 0 && rless(h[j]!, h[j - 1]!); j--) {
        const t = h[j]!; h[j] = h[j - 1]!; h[j - 1] = t;
      }
    }
    return;
  }
  h.sort((a, b) => (rless(a, b) ? -1 : rless(b, a) ? 1 : 0));
}

export interface AggrSpec {
  op: AggregateOp;
  grouping: string[];
  without: boolean;
}

/** Per-node caches keyed by metric identity (the same Labels object recurs at every step). */
export class AggrCache {
  readonly keys = new WeakMap<Labels, string>();
  readonly groupLabels = new WeakMap<Labels, Labels>();
}

export function aggregate(spec: AggrSpec, param: number | string | null, vec: Vector, t: number, cache: AggrCache): Vector {
  const { op, without } = spec;
  let grouping = spec.grouping;
  let k = 0;
  if (op === "topk" || op === "bottomk") {
    const f = param as number;
    if (!convertibleToInt64(f)) throw new CodedError("execution", `Scalar value ${formatFloatV(f)} overflows int64`);
    k = Math.trunc(f);
    if (k < 1) return [];
  }
  const q = op === "quantile" ? (param as number) : 0;
  let valueLabel = "";
  let recompute = false;
  if (op === "count_values") {
    valueLabel = param as string;
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(valueLabel)) throw new CodedError("execution", `invalid label name ${JSON.stringify(valueLabel)}`);
    if (!without) grouping = [...grouping, valueLabel];
    recompute = true;
  }
  const names = new Set(grouping);
  const result = new Map<string, Group>();
  const ordered: Group[] = [];
  const less = op === "bottomk" ? lessDesc : lessAsc;

  for (const s0 of vec) {
    let s = s0;
    let key: string | undefined;
    if (op === "count_values") {
      s = { metric: setLabel(s0.metric, valueLabel, formatFloatF(s0.v)), t: s0.t, v: s0.v };
    }
    if (!recompute) key = cache.keys.get(s.metric);
    if (key === undefined) {
      key = without ? signature(s.metric, false, names) : signature(s.metric, true, names);
      if (!recompute) cache.keys.set(s.metric, key);
    }
    const g = result.get(key);
    if (!g) {
      let m: Labels | undefined = recompute ? undefined : cache.groupLabels.get(s.metric);
      if (!m) {
        if (without) m = s.metric.filter((l) => !names.has(l.name) && l.name !== METRIC_NAME);
        else m = keepLabels(s.metric, names);
        if (!recompute) cache.groupLabels.set(s.metric, m);
      }
      const ng: Group = { labels: m, value: s.v, mean: s.v, count: 1, heap: [], vals: [] };
      switch (op) {
        case "stddev": case "stdvar": ng.value = 0; break;
        case "topk": case "bottomk": ng.heap.push(s0); break;
        case "quantile": ng.vals.push(s.v); break;
        case "group": ng.value = 1; break;
      }
      result.set(key, ng);
      ordered.push(ng);
      continue;
    }
    const v = s.v;
    switch (op) {
      case "sum": g.value += v; break;
      case "avg": g.count++; g.mean = meanStep(g.mean, v, g.count); break;
      case "group": break;
      case "max": if (g.value < v || Number.isNaN(g.value)) g.value = v; break;
      case "min": if (g.value > v || Number.isNaN(g.value)) g.value = v; break;
      case "count": case "count_values": g.count++; break;
      case "stddev": case "stdvar": {
        g.count++;
        const delta = v - g.mean;
        g.mean += delta / g.count;
        g.value += delta * (v - g.mean);
        break;
      }
      case "topk":
        if (g.heap.length < k) {
          g.heap.push(s0);
          heapUp(g.heap, g.heap.length - 1, less);
        } else if (g.heap[0]!.v < v || Number.isNaN(g.heap[0]!.v)) { // a NaN root is always replaced (checked against 2.42)
          heapReplace(g.heap, s0, less);
        }
        break;
      case "bottomk":
        if (g.heap.length < k) {
          g.heap.push(s0);
          heapUp(g.heap, g.heap.length - 1, less);
        } else if (g.heap[0]!.v > v || Number.isNaN(g.heap[0]!.v)) {
          heapReplace(g.heap, s0, less);
        }
        break;
      case "quantile": g.vals.push(v); break;
    }
  }

  const out: Vector = [];
  for (const g of ordered) {
    switch (op) {
      case "avg": g.value = g.mean; break;
      case "count": case "count_values": g.value = g.count; break;
      case "stdvar": g.value = g.value / g.count; break;
      case "stddev": g.value = Math.sqrt(g.value / g.count); break;
      case "topk": case "bottomk":
        if (g.heap.length > 1) sortReverse(g.heap, less);
        for (const s of g.heap) out.push({ metric: s.metric, t, v: s.v });
        continue;
      case "quantile": g.value = quantile(q, g.vals); break;
    }
    out.push({ metric: g.labels, t, v: g.value });
  }
  return out;
}
