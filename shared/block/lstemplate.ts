// `tools bucket ls -o '<template>'`: a Go text/template executed over Thanos' *metadata.Meta
// ({{.ULID}}, {{.MinTime}}, {{.Thanos.Labels}}, {{.Compaction.Level}}, {{.Stats.NumSamples}}, …), with
// Go's builtins only, through the text/template port in shared/template.
//
// The Go struct embeds tsdb.BlockMeta; here its fields are also fields of Meta (so {{.ULID}} and
// {{.BlockMeta.ULID}} both work), which differs from Go only when a template prints a whole Meta.
// thanos.rewrites and thanos.extensions are left empty.

import { BUILTINS } from "../template/builtins.ts";
import { State, type ExecEnv } from "../template/exec.ts";
import { parseTemplate, TemplateError } from "../template/parse.ts";
import { goTime, TIME_T } from "../template/gotime.ts";
import {
  ANY, BOOL, GoBox, GoMap, GoSlice, GoStruct, INT, INT64, MAP_SS, named, sliceOf, STRING, structOf, UINT64, type Field, type GoType, type GoValue,
} from "../template/value.ts";
import type { BlockMeta } from "../tsdb/meta.ts";

const ULID_T: GoType = named("ulid.ULID", STRING);
ULID_T.stringer = (v) => (v as GoBox).v as string;
const SOURCE_T: GoType = named("metadata.SourceType", STRING);

const f = (name: string, type: GoType): Field => ({ name, type, exported: true });
const STATS_T = structOf(["NumSamples", "NumFloatSamples", "NumHistogramSamples", "NumSeries", "NumChunks", "NumTombstones"].map((n) => f(n, UINT64)), "tsdb.BlockStats");
const DESC_T = structOf([f("ULID", ULID_T), f("MinTime", INT64), f("MaxTime", INT64)], "tsdb.BlockDesc");
const COMPACTION_T = structOf([f("Level", INT), f("Sources", sliceOf(ULID_T)), f("Deletable", BOOL), f("Parents", sliceOf(DESC_T)), f("Failed", BOOL), f("Hints", sliceOf(STRING))], "tsdb.BlockMetaCompaction");
const BLOCK_META_FIELDS = [f("ULID", ULID_T), f("MinTime", INT64), f("MaxTime", INT64), f("Stats", STATS_T), f("Compaction", COMPACTION_T), f("Version", INT)];
const BLOCK_META_T = structOf(BLOCK_META_FIELDS, "tsdb.BlockMeta");
const FILE_T = structOf([f("RelPath", STRING), f("SizeBytes", INT64), f("Hash", ANY)], "metadata.File");
const THANOS_T = structOf([
  f("Version", INT), f("Labels", MAP_SS), f("Downsample", structOf([f("Resolution", INT64)], "metadata.ThanosDownsample")), f("Source", SOURCE_T),
  f("SegmentFiles", sliceOf(STRING)), f("Files", sliceOf(FILE_T)), f("Rewrites", sliceOf(ANY)),
  f("IndexStats", structOf([f("SeriesMaxSize", INT64), f("ChunkMaxSize", INT64)], "metadata.IndexStats")), f("Extensions", ANY), f("UploadTime", TIME_T),
], "metadata.Thanos");
const META_T = structOf([f("BlockMeta", BLOCK_META_T), ...BLOCK_META_FIELDS, f("Thanos", THANOS_T)], "metadata.Meta");

const int = (n: number | undefined, t: GoType = INT64) => new GoBox(t, BigInt(n ?? 0));
const ulid = (s: string) => new GoBox(ULID_T, s);
const strings = (a: readonly string[] | undefined) => new GoSlice(sliceOf(STRING), a ? [...a] : null);

function metaValue(m: BlockMeta): GoStruct {
  const s = m.stats, c = m.compaction, t = m.thanos;
  const blockFields: GoValue[] = [
    ulid(m.ulid), int(m.minTime), int(m.maxTime),
    new GoStruct(STATS_T, [s.numSamples, s.numFloatSamples, s.numHistogramSamples, s.numSeries, s.numChunks, s.numTombstones].map((n) => int(n, UINT64))),
    new GoStruct(COMPACTION_T, [
      int(c.level, INT), new GoSlice(sliceOf(ULID_T), c.sources.map(ulid)), c.deletable === true,
      new GoSlice(sliceOf(DESC_T), c.parents ? c.parents.map((p) => new GoStruct(DESC_T, [ulid(p.ulid), int(p.minTime), int(p.maxTime)])) : null),
      c.failed === true, strings(c.hints),
    ]),
    int(m.version, INT),
  ];
  const upload = typeof t?.upload_time === "string" ? Date.parse(t.upload_time) : NaN;
  const thanos = new GoStruct(THANOS_T, [
    int(t?.version, INT), new GoMap(MAP_SS, t ? { ...t.labels } : null),
    new GoStruct(THANOS_T.fields![2]!.type, [int(t?.downsample?.resolution)]), new GoBox(SOURCE_T, t?.source ?? ""),
    strings(t?.segment_files),
    new GoSlice(sliceOf(FILE_T), t?.files ? t.files.map((x) => new GoStruct(FILE_T, [x.rel_path, int(x.size_bytes), undefined])) : null),
    new GoSlice(sliceOf(ANY), null),
    new GoStruct(THANOS_T.fields![7]!.type, [int(t?.index_stats?.series_max_size), int(t?.index_stats?.chunk_max_size)]),
    undefined,
    Number.isFinite(upload) ? goTime(upload) : goTime(-62135596800000),
  ]);
  return new GoStruct(META_T, [new GoStruct(BLOCK_META_T, blockFields), ...blockFields, thanos]);
}

/** A parsed `-o` template; `render` returns the text for one block or throws Error("execute template: …"). */
export function lsTemplate(text: string): { render(m: BlockMeta): string } {
  let env: ExecEnv;
  try {
    env = { trees: parseTemplate("", text, (n) => BUILTINS.has(n)), funcs: new Map(), builtins: BUILTINS };
  } catch (e) {
    if (e instanceof TemplateError) throw new Error(`invalid template: ${e.message}`);
    throw e;
  }
  const tree = env.trees.get("");
  return {
    render(m) {
      const data = metaValue(m);
      const st = new State(env, "");
      try {
        if (tree === undefined || tree.root === null) st.errorf(`"" is an incomplete or empty template`);
        st.push("$", data);
        st.walk(data, tree!.root!);
      } catch (e) {
        if (e instanceof TemplateError) throw new Error(`execute template: ${e.message}`);
        throw e;
      }
      return st.out;
    },
  };
}
