// Backfilling recording rules over history, as `promtool tsdb create-blocks-from rules` (Prometheus
// 2.42 cmd/promtool/rules.go) does it: for every recording rule, for every block-duration window
// (2h by default) from --start to --end, one query_range of the rule's expression (as Prometheus
// prints it) with step = the group's interval, starting on the group's first evaluation slot in the
// window (its phase offset, from the rule file path and group name); the result is renamed and
// relabelled like a recording rule's output and written as one block per rule and window.
//
// Times follow promtool to the nanosecond: --start/--end are truncated to seconds, the aligned start
// keeps the slot's nanoseconds and is sent as Go formats float seconds (so the server rounds it to
// milliseconds the same way). Unlike promtool 2.42, alerting rules are skipped (promtool writes their
// expression under the alert's name; its own help says alerting rules are not evaluated).

import { Encoding } from "../chunkenc/chunk.ts";
import { XorAppender } from "../chunkenc/xor.ts";
import { CodedError } from "../encoding/errors.ts";
import { compareLabels, type Labels } from "../labels/labels.ts";
import { formatValue } from "../promql/format.ts";
import { parseExpr } from "../promql/parser.ts";
import { exprString } from "../promql/printer.ts";
import { compatibleBlockDuration, SAMPLES_PER_CHUNK } from "../tsdb/backfill.ts";
import type { WriterChunk } from "../tsdb/writer.ts";
import { labelsHash } from "../labels/labels.ts";
import { relabelRecorded } from "./recording.ts";
import { parseRules, prefixErrors, type RuleDef } from "./rulefmt.ts";

/** A range query's matrix: one series per label set, samples in time order. */
export type Matrix = { metric: Labels; ts: number[]; vs: number[] }[];

/**
 * query_range of expr; start is the exact text promtool's client sends (Go float seconds), end and
 * step are whole seconds and milliseconds.
 */
export type QueryRangeFunc = (expr: string, start: string, endSec: number, stepMs: number) => Promise<Matrix>;

export interface BackfillRule {
  file: string;
  group: string;
  /** Group interval (ms): the rule file's, or the --eval-interval default. */
  interval: number;
  rule: RuleDef;
  query: string;
}

export interface BackfillBlockOut {
  rule: BackfillRule;
  minTime: number;
  maxTime: number;
  series: { labels: Labels; chunks: WriterChunk[] }[];
  samples: number;
}

/** Go's float seconds text of a time in ns: strconv.FormatFloat(float64(sec) + float64(nsec)/1e9, 'f', -1, 64). */
export function goFloatSeconds(ns: bigint): string {
  let sec = ns / 1_000_000_000n, frac = ns % 1_000_000_000n;
  if (frac < 0n) { sec -= 1n; frac += 1_000_000_000n; }
  return formatValue(Number(sec) + Number(frac) / 1e9);
}

/** The recording rules of the files, in file, group and rule order (first load error throws). */
export function loadBackfillRules(files: { file: string; content: string }[], evalInterval: number): BackfillRule[] {
  const out: BackfillRule[] = [];
  for (const f of files) {
    const rf = parseRules(f.content, { thanos: true });
    if (rf.errors.length > 0) throw new CodedError("bad_data", `rule importer parse error: ${prefixErrors(f.file, rf.errors)[0]}`);
    for (const g of rf.groups) {
      for (const r of g.rules) {
        if (r.kind !== "recording") continue;
        out.push({ file: f.file, group: g.name, interval: g.interval || evalInterval, rule: r, query: exprString(parseExpr(r.expr)) });
      }
    }
  }
  return out;
}

/** EvalTimestamp in ns of a group at a time in ns. */
function evalTimestampNs(file: string, name: string, intervalMs: number, nowNs: bigint): bigint {
  const iv = BigInt(intervalMs) * 1_000_000n;
  const offset = labelsHash([{ name: "file", value: file }, { name: "name", value: name }]) % iv;
  const adj = nowNs - offset;
  return adj - (adj % iv) + offset;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return (a % b !== 0n && (a < 0n) !== (b < 0n)) ? q - 1n : q;
}

/** The query_range windows of one rule: [aligned start text, end seconds] per block window. */
export function ruleWindows(r: BackfillRule, startSec: number, endSec: number, maxBlockDuration: number): { start: string; startMs: number; endSec: number }[] {
  const bd = BigInt(compatibleBlockDuration(maxBlockDuration));
  const startMs = BigInt(startSec) * 1000n, endMs = BigInt(endSec) * 1000n;
  const out: { start: string; startMs: number; endSec: number }[] = [];
  const iv = BigInt(r.interval) * 1_000_000n;
  for (let sob = bd * (startMs / bd); sob <= endMs; sob += bd) {
    const eob = sob + bd - 1n;
    const currStart = sob / 1000n > BigInt(startSec) ? sob / 1000n : BigInt(startSec);
    let aligned = evalTimestampNs(r.file, r.group, r.interval, currStart * 1_000_000_000n);
    while (floorDiv(aligned, 1_000_000_000n) < currStart) aligned += iv;
    const end = eob / 1000n < BigInt(endSec) ? eob / 1000n : BigInt(endSec);
    if (end * 1_000_000_000n < aligned) break;
    out.push({ start: goFloatSeconds(aligned), startMs: Number(floorDiv(aligned, 1_000_000n)), endSec: Number(end) });
  }
  return out;
}

/** XOR chunks of at most 120 samples. */
function chunksOf(ts: number[], vs: number[]): WriterChunk[] {
  const chunks: WriterChunk[] = [];
  for (let i = 0; i < ts.length; i += SAMPLES_PER_CHUNK) {
    const app = new XorAppender();
    const end = Math.min(ts.length, i + SAMPLES_PER_CHUNK);
    for (let j = i; j < end; j++) app.append(ts[j]!, vs[j]!);
    chunks.push({ minTime: ts[i]!, maxTime: ts[end - 1]!, encoding: Encoding.XOR, data: app.bytes() });
  }
  return chunks;
}

/**
 * Query and build the blocks, one per rule and window that has samples. Errors of one rule are
 * collected (as promtool, which goes on with the next rule) and thrown together at the end.
 */
export async function* backfillRules(
  rules: BackfillRule[],
  opts: { startSec: number; endSec: number; maxBlockDuration?: number },
  queryRange: QueryRangeFunc,
  onError?: (rule: BackfillRule, err: Error) => void,
): AsyncGenerator<BackfillBlockOut> {
  for (const r of rules) {
    try {
      for (const w of ruleWindows(r, opts.startSec, opts.endSec, opts.maxBlockDuration ?? 0)) {
        let m: Matrix;
        try {
          m = await queryRange(r.query, w.start, w.endSec, r.interval);
        } catch (e) {
          throw new CodedError("execution", `query range: ${(e as Error).message}`, { cause: e });
        }
        const series: { labels: Labels; ts: number[]; vs: number[] }[] = [];
        for (const s of m) {
          // Same label handling as a recording rule (rule labels over the result, then the name).
          const [relabelled] = relabelRecorded([{ metric: s.metric, t: 0, v: 0 }], r.rule.name, r.rule.labels, 0);
          series.push({ labels: relabelled!.metric, ts: s.ts, vs: s.vs });
        }
        series.sort((a, b) => compareLabels(a.labels, b.labels));
        let samples = 0, mint = Infinity, maxt = -Infinity;
        const out: BackfillBlockOut["series"] = [];
        for (let i = 0; i < series.length; i++) {
          const s = series[i]!;
          if (i > 0 && compareLabels(series[i - 1]!.labels, s.labels) === 0) {
            throw new CodedError("bad_data", `rule ${r.rule.name}: the query result has two series with the labels ${JSON.stringify(s.labels)} after relabelling`);
          }
          if (s.ts.length === 0) continue;
          samples += s.ts.length;
          mint = Math.min(mint, s.ts[0]!);
          maxt = Math.max(maxt, s.ts[s.ts.length - 1]!);
          out.push({ labels: s.labels, chunks: chunksOf(s.ts, s.vs) });
        }
        if (samples > 0) yield { rule: r, minTime: mint, maxTime: maxt + 1, series: out, samples };
      }
    } catch (e) {
      if (!onError) throw e;
      onError(r, e as Error);
    }
  }
}
