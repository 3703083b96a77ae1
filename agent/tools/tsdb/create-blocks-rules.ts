// `tools tsdb create-blocks-from rules --start T [--end T] --url QUERY_API [--output-dir DIR]
// [--eval-interval 60s] RULE_FILE...`: `promtool tsdb create-blocks-from rules` (Prometheus 2.42
// cmd/promtool/rules.go) against any Prometheus-compatible query API (our querier over the whole
// bucket, a Prometheus): one query_range per recording rule and 2 h window, one block per rule and
// window in the output directory. Upload the blocks with the sidecar or a tools command to make
// them queryable. See shared/rules/backfill.ts for the exact semantics.
import { mkdirSync, readFileSync } from "node:fs";
import { parseFlags, flagsHelp, type FlagSpec } from "../../flags.ts";
import { CodedError } from "../../../shared/encoding/errors.ts";
import type { Label } from "../../../shared/labels/labels.ts";
import { backfillRules, loadBackfillRules, type Matrix, type QueryRangeFunc } from "../../../shared/rules/backfill.ts";
import { writeBlock } from "../../../shared/tsdb/writer.ts";
import { newUlid } from "../../../shared/tsdb/ulid.ts";
import { DiskSink } from "../../tsdb/local.ts";
import { parseDurationFlag } from "./create-blocks.ts";
import { requireFiles } from "../rules-check.ts";
import { PROGRAM } from "../../program.ts";

const specs: FlagSpec[] = [
  { name: "url", help: "the URL of the Prometheus-compatible query API the rules are evaluated against", default: "http://localhost:9090" },
  { name: "start", help: "when to start backfilling: RFC3339 or a Unix timestamp (required)" },
  { name: "end", help: "when to stop backfilling: RFC3339 or a Unix timestamp (default: 3 hours ago)" },
  { name: "output-dir", help: "output directory for generated blocks", default: "data/" },
  { name: "eval-interval", help: "evaluation interval of groups that set none", default: "60s" },
  { name: "max-block-duration", help: "maximum duration of created blocks (2h, 6h, 18h, … are used)", default: "2h" },
  { name: "human-readable", help: "accepted for promtool compatibility (nothing is printed)", boolean: true },
  { name: "quiet", help: "accepted for promtool compatibility (nothing is printed)", boolean: true },
  { name: "help", help: "show this help", boolean: true },
];

/** promtool's parseTime: float seconds (truncated to whole seconds later), else RFC3339. Returns seconds. */
export function parseTimeSeconds(flag: string, s: string): number {
  if (/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(s.trim())) return Math.trunc(Number(s));
  const t = Date.parse(s);
  if (/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(s) && !Number.isNaN(t)) return Math.floor(t / 1000);
  throw new CodedError("bad_data", `error parsing ${flag} time: cannot parse ${JSON.stringify(s)} to a valid timestamp`);
}

/** Prometheus API sample value text ("NaN", "+Inf", "1e+06") to a number. */
function parseValue(s: string): number {
  if (s === "+Inf" || s === "Inf") return Infinity;
  if (s === "-Inf") return -Infinity;
  if (s === "NaN") return NaN;
  return Number(s);
}

/** query_range over HTTP like Prometheus' Go client: POST form (GET when the server says 405). */
export function httpQueryRange(base: string, fetchImpl: typeof fetch = fetch): QueryRangeFunc {
  const url = base.replace(/\/+$/, "") + "/api/v1/query_range";
  return async (expr, start, endSec, stepMs) => {
    const params = new URLSearchParams({ query: expr, start, end: String(endSec), step: String(stepMs / 1000) });
    let res = await fetchImpl(url, { method: "POST", headers: { "Content-Type": "application/x-www-form-urlencoded" }, body: params.toString() });
    if (res.status === 405) res = await fetchImpl(`${url}?${params}`);
    const text = await res.text();
    let body: { status?: string; errorType?: string; error?: string; data?: { resultType?: string; result?: unknown } };
    try {
      body = JSON.parse(text);
    } catch {
      throw new CodedError("unavailable", `${url}: HTTP ${res.status}, not JSON: ${text.slice(0, 200)}`);
    }
    if (body.status !== "success") throw new CodedError("execution", `${body.errorType ?? "server_error"}: ${body.error ?? `HTTP ${res.status}`}`);
    if (body.data?.resultType !== "matrix") throw new CodedError("execution", `rule result is wrong type ${body.data?.resultType}`);
    const m: Matrix = [];
    for (const s of body.data.result as { metric: Record<string, string>; values: [number, string][] }[]) {
      const metric: Label[] = Object.entries(s.metric).map(([name, value]) => ({ name, value })).sort((a, b) => (a.name < b.name ? -1 : 1));
      m.push({ metric, ts: s.values.map(([t]) => Math.round(t * 1000)), vs: s.values.map(([, v]) => parseValue(v)) });
    }
    return m;
  };
}

export async function run(argv: string[]): Promise<number> {
  const f = parseFlags("tools tsdb create-blocks-from rules", specs, argv);
  if (f.bool("help") || f.positionals[0] !== "rules") {
    console.log(`usage: ${PROGRAM} tools tsdb create-blocks-from rules --start T [--end T] [--url URL] [--output-dir DIR] [--eval-interval 60s] <rule-files>...\n\nCreate blocks of data for new recording rules (promtool tsdb create-blocks-from rules).\n\n${flagsHelp(specs)}`);
    return f.bool("help") ? 0 : 2;
  }
  const files = f.positionals.slice(1);
  const bad = requireFiles("rule-files", files);
  if (bad !== null) return bad;
  if (f.get("start") === undefined) {
    process.stderr.write("promtool: error: required flag --start not provided, try --help\n");
    return 1;
  }
  try {
    const endSec = f.get("end") === undefined ? Math.floor(Date.now() / 1000) - 3 * 3600 : parseTimeSeconds("end", f.get("end")!);
    const startSec = parseTimeSeconds("start", f.get("start")!);
    if (!(startSec < endSec)) throw new CodedError("bad_data", "start time is not before end time");
    const evalInterval = parseDurationFlag("eval-interval", f.get("eval-interval")!);
    const maxBlockDuration = parseDurationFlag("max-block-duration", f.get("max-block-duration")!);
    const rules = loadBackfillRules(files.map((file) => ({ file, content: readFileSync(file, "utf8") })), evalInterval);
    const outDir = f.get("output-dir")!;
    mkdirSync(outDir, { recursive: true });
    const log = (msg: string) => process.stderr.write(`level=info backfiller=${JSON.stringify(msg)}\n`);
    log(`new rule importer start=${new Date(startSec * 1000).toISOString()} end=${new Date(endSec * 1000).toISOString()}`);
    const errors: string[] = [];
    const query = httpQueryRange(f.get("url")!);
    for await (const b of backfillRules(rules, { startSec, endSec, maxBlockDuration }, query, (r, e) => errors.push(`${r.rule.name}: ${e.message}`))) {
      const ulid = newUlid();
      await writeBlock(new DiskSink(outDir, ulid), b.series, { ulid, minTime: b.minTime, maxTime: b.maxTime });
    }
    for (const e of errors) process.stderr.write(`rule importer error: ${e}\n`);
    if (errors.length > 0) {
      process.stderr.write("error importing rules\n");
      return 1;
    }
    return 0;
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n`);
    return 1;
  }
}
