// What `thanos tools bucket inspect` and `ls` print (cmd/thanos/tools_bucket.go), byte for byte:
//
//   inspect: one row per block with the columns below, sorted by --sort-by (Thanos' compare: RFC 3339
//   times, then Go durations, then integers with thousands separators, then strings; the ULID breaks
//   ties), printed as olekukonko/tablewriter v0.0.5 draws it (header centred, cells left-aligned, no
//   top or bottom border) or as encoding/csv writes CSV and TSV;
//   ls -o wide: "<ULID> -- <from> - <until> Diff: <range>, Compaction: <level>, Downsample: <res>, Source: <source>".
//
// Times are time.Unix(ms/1000, 0) in RFC 3339 in the local zone, durations time.Duration.String(), counts
// grouped by thousands as golang.org/x/text's English printer does.

import { DOWNSAMPLE_RANGE_1H, DOWNSAMPLE_RANGE_5M, RES_1H, RES_5M, RES_RAW } from "../compact/downsample.ts";
import { CodedError } from "../encoding/errors.ts";
import { displayWidth, goDuration, goGroupInt, goRFC3339, parseGoDuration, parseRFC3339 } from "../encoding/gotext.ts";
import type { Label } from "../labels/labels.ts";
import { compareStrings } from "../labels/labels.ts";
import { unquote } from "../template/strconv.ts";
import type { BlockMeta } from "../tsdb/meta.ts";

export const INSPECT_COLUMNS = ["ULID", "FROM", "UNTIL", "RANGE", "UNTIL-DOWN", "#SERIES", "#SAMPLES", "#CHUNKS", "COMP-LEVEL", "COMP-FAILED", "LABELS", "RESOLUTION", "SOURCE"] as const;

export interface Table { header: readonly string[]; lines: string[][] }

/** compact.UntilNextDownsampling: how much range the block lacks before it is downsampled; null for 1h blocks. */
export function untilNextDownsampling(m: BlockMeta): number | null {
  const range = m.maxTime - m.minTime;
  const res = m.thanos?.downsample?.resolution ?? 0;
  if (res === RES_1H) return null;
  if (res === RES_5M) return DOWNSAMPLE_RANGE_1H - range;
  if (res === RES_RAW) return DOWNSAMPLE_RANGE_5M - range;
  throw new CodedError("corrupt", `block ${m.ulid}: invalid resolution ${res}`);
}

/** Unix seconds of a millisecond time as Go's integer division gives them (towards zero). */
function unixSec(ms: number): number { return Math.trunc(ms / 1000); }

/**
 * cmd/thanos parseFlagLabels: `name="value"` pairs (the value Go-quoted), sorted by name. Errors as
 * Thanos words them.
 */
export function parseFlagLabels(flags: readonly string[]): Label[] {
  const out: Label[] = [];
  for (const l of flags) {
    const eq = l.indexOf("=");
    if (eq < 0) throw new CodedError("bad_data", `unrecognized label ${JSON.stringify(l)}`);
    const name = l.slice(0, eq);
    if (name === "") throw new CodedError("bad_data", `unsupported format for label ${l}`);
    let value: string;
    try { value = unquote(l.slice(eq + 1)); } catch { throw new CodedError("bad_data", "unquote label value: invalid syntax"); }
    out.push({ name, value });
  }
  return out.sort((a, b) => compareStrings(a.name, b.name));
}

/** Does the block carry every selector label with that value (Thanos' matchesSelector)? */
function matchesSelector(m: BlockMeta, selector: readonly Label[]): boolean {
  const ls = m.thanos?.labels ?? {};
  return selector.every((l) => Object.prototype.hasOwnProperty.call(ls, l.name) && ls[l.name] === l.value);
}

/** The inspect row of a block. */
function inspectRow(m: BlockMeta): string[] {
  const until = untilNextDownsampling(m);
  const labels = m.thanos?.labels ?? {};
  return [
    m.ulid,
    goRFC3339(unixSec(m.minTime)),
    goRFC3339(unixSec(m.maxTime)),
    goDuration(m.maxTime - m.minTime),
    until === null ? "-" : goDuration(until),
    goGroupInt(m.stats.numSeries),
    goGroupInt(m.stats.numSamples),
    goGroupInt(m.stats.numChunks),
    goGroupInt(m.compaction.level),
    String(m.compaction.failed === true),
    Object.keys(labels).sort(compareStrings).map((k) => `${k}=${labels[k]}`).join(","),
    goDuration(m.thanos?.downsample?.resolution ?? 0),
    m.thanos?.source ?? "",
  ];
}

/** Thanos' compare: times, else durations, else integers (commas removed), else strings. */
function lessCell(a: string, b: string): boolean {
  const ta = parseRFC3339(a), tb = parseRFC3339(b);
  if (ta !== null && tb !== null) return ta < tb;
  const da = parseGoDuration(a), db = parseGoDuration(b);
  if (da !== null && db !== null) return da < db;
  const ia = parseUint(a.replaceAll(",", "")), ib = parseUint(b.replaceAll(",", ""));
  if (ia !== null && ib !== null) return ia < ib;
  return compareStrings(a, b) < 0;
}

/** strconv.ParseUint(s, 10, 64) as a bigint, or null. */
function parseUint(s: string): bigint | null {
  if (!/^[0-9]+$/.test(s)) return null;
  const v = BigInt(s);
  return v < 1n << 64n ? v : null;
}

/** The inspect table of the blocks matching `selector`, sorted by the named columns (then ULID). */
export function inspectTable(metas: Iterable<BlockMeta>, selector: readonly Label[], sortBy: readonly string[]): Table {
  const idx = sortBy.map((c) => {
    const i = (INSPECT_COLUMNS as readonly string[]).indexOf(c);
    if (i < 0) throw new CodedError("bad_data", `column ${c} not found`);
    return i;
  });
  const lines: string[][] = [];
  for (const m of metas) if (matchesSelector(m, selector)) lines.push(inspectRow(m));
  const less = (x: string[], y: string[]): boolean => {
    for (const i of idx) {
      if (x[i] === y[i]) continue;
      return lessCell(x[i]!, y[i]!);
    }
    return lessCell(x[0]!, y[0]!);
  };
  lines.sort((x, y) => (less(x, y) ? -1 : less(y, x) ? 1 : 0));
  return { header: INSPECT_COLUMNS, lines };
}

/** tablewriter's Title(): "_" (and "." not between digits) become spaces, trimmed, upper-cased. */
function title(name: string): string {
  const rs = [...name];
  const numOrSpace = (c: string | undefined) => c !== undefined && /[0-9 ]/.test(c);
  for (let i = 0; i < rs.length; i++) {
    if (rs[i] === "_") rs[i] = " ";
    else if (rs[i] === "." && ((i !== 0 && !numOrSpace(rs[i - 1])) || (i !== rs.length - 1 && !numOrSpace(rs[i + 1])))) rs[i] = " ";
  }
  const t = rs.join("").trim();
  return (t === "" && name.length > 0 ? " " : t).toUpperCase();
}

function padRight(s: string, w: number): string { return s + " ".repeat(Math.max(0, w - displayWidth(s))); }
function padCenter(s: string, w: number): string {
  const gap = w - displayWidth(s);
  if (gap <= 0) return s;
  const left = Math.floor(gap / 2);
  return " ".repeat(left) + s + " ".repeat(gap - left);
}

/**
 * The table as tools_bucket.go's printTable configures tablewriter v0.0.5: borders left and right only,
 * "|" separators, header centred (and Title()d), cells left-aligned and not wrapped (a cell's lines are
 * its "\n"-separated parts; a short cell is padded with "  " lines, as tablewriter does).
 */
export function renderTable(t: Table): string {
  const cells = t.lines.map((row) => row.map((c) => c.split("\n")));
  const width = t.header.map((h, i) => Math.max(displayWidth(h), ...cells.map((r) => Math.max(0, ...(r[i] ?? [""]).map(displayWidth)))));
  let out = "|" + t.header.map((h, i) => ` ${padCenter(title(h), width[i]!)} |`).join("") + "\n";
  out += "|" + width.map((w) => "-".repeat(w + 2) + "|").join("") + "\n";
  for (const r of cells) {
    const height = Math.max(1, ...r.map((c) => c.length));
    for (let x = 0; x < height; x++) {
      out += r.map((c, i) => `| ${padRight(c[x] ?? "  ", width[i]!)} `).join("") + "|\n";
    }
  }
  return out;
}

const GO_SPACE = /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;

/** encoding/csv's Writer (Comma `comma`, "\n" line ends): header then rows. */
export function renderCsv(t: Table, comma = ","): string {
  const field = (f: string): string => {
    const quote = f !== "" && (f === "\\." || f.includes("\n") || f.includes("\r") || f.includes('"') || f.includes(comma) || GO_SPACE.test(f));
    return quote ? `"${f.replaceAll('"', '""')}"` : f;
  };
  return [t.header, ...t.lines].map((r) => r.map(field).join(comma) + "\n").join("");
}

/** `tools bucket ls -o wide`'s line for a block. */
export function lsWideLine(m: BlockMeta): string {
  const from = unixSec(m.minTime), until = unixSec(m.maxTime);
  return `${m.ulid} -- ${goRFC3339(from)} - ${goRFC3339(until)} Diff: ${goDuration((until - from) * 1000)}, ` +
    `Compaction: ${m.compaction.level}, Downsample: ${m.thanos?.downsample?.resolution ?? 0}, Source: ${m.thanos?.source ?? ""}`;
}
