// Chunk merging against the real code: a Go program runs Prometheus' NewCompactingChunkSeriesMerger(
// ChainedSeriesMerge) and Thanos' dedup.NewChunkSeriesMerger (penalty) over the same chunk lists as our
// mergeChunks, and the output chunks must be byte-identical (ranges and bytes).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync } from "node:child_process";
import { buildGo } from "../lib/gobuild.ts";
import { mergeChunks, type MChunk, type MergeMode } from "../../shared/compact/merge.ts";
import { XorAppender, STALE_HI, STALE_LO } from "../../shared/chunkenc/xor.ts";
import { Encoding } from "../../shared/chunkenc/chunk.ts";

const GO_MOD = `module thanots/gomerge

go 1.25.0

require github.com/thanos-io/thanos v0.41.0
`;

const MAIN_GO = String.raw`// Merge chunk lists with Prometheus' compacting merger or Thanos' penalty dedup merger.
// stdin: [{"mode":"compact"|"penalty","lists":[[{"minTime":..,"maxTime":..,"data":"hex"}]]}]
// stdout: [[{"minTime":..,"maxTime":..,"data":"hex"}]]
package main

import (
	"encoding/hex"
	"encoding/json"
	"os"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/thanos-io/thanos/pkg/dedup"
)

type C struct {
	MinTime int64  ` + "`json:\"minTime\"`" + `
	MaxTime int64  ` + "`json:\"maxTime\"`" + `
	Data    string ` + "`json:\"data\"`" + `
}

type In struct {
	Mode  string ` + "`json:\"mode\"`" + `
	Lists [][]C  ` + "`json:\"lists\"`" + `
}

func main() {
	var cases []In
	if err := json.NewDecoder(os.Stdin).Decode(&cases); err != nil {
		panic(err)
	}
	out := [][]C{}
	for _, c := range cases {
		var series []storage.ChunkSeries
		for _, l := range c.Lists {
			var metas []chunks.Meta
			for _, x := range l {
				b, err := hex.DecodeString(x.Data)
				if err != nil {
					panic(err)
				}
				chk, err := chunkenc.FromData(chunkenc.EncXOR, b)
				if err != nil {
					panic(err)
				}
				metas = append(metas, chunks.Meta{MinTime: x.MinTime, MaxTime: x.MaxTime, Chunk: chk})
			}
			m := metas
			series = append(series, &storage.ChunkSeriesEntry{Lset: labels.EmptyLabels(), ChunkIteratorFn: func(chunks.Iterator) chunks.Iterator {
				return storage.NewListChunkSeriesIterator(m...)
			}})
		}
		var merge storage.VerticalChunkSeriesMergeFunc
		if c.Mode == "penalty" {
			merge = dedup.NewChunkSeriesMerger()
		} else {
			merge = storage.NewCompactingChunkSeriesMerger(storage.ChainedSeriesMerge)
		}
		it := merge(series...).Iterator(nil)
		res := []C{}
		for it.Next() {
			m := it.At()
			res = append(res, C{MinTime: m.MinTime, MaxTime: m.MaxTime, Data: hex.EncodeToString(m.Chunk.Bytes())})
		}
		if err := it.Err(); err != nil {
			panic(err)
		}
		out = append(out, res)
	}
	if err := json.NewEncoder(os.Stdout).Encode(out); err != nil {
		panic(err)
	}
}
`;

const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Samples cut into chunks of `per` samples, encoded as Prometheus 2.42 does (Prometheus' own blocks). */
function chunksOf(ts: number[], vs: (number | "stale")[], per: number): MChunk[] {
  const out: MChunk[] = [];
  for (let i = 0; i < ts.length; i += per) {
    const a = new XorAppender();
    for (let j = i; j < Math.min(ts.length, i + per); j++) {
      const v = vs[j]!;
      if (v === "stale") a.appendBits(ts[j]!, STALE_HI, STALE_LO); else a.append(ts[j]!, v);
    }
    out.push({ minTime: ts[i]!, maxTime: ts[Math.min(ts.length, i + per) - 1]!, encoding: Encoding.XOR, data: a.bytes() });
  }
  return out;
}

/** A replica's scrape: every `step` ms from `offset`, jittered, with an occasional gap and stale marker. */
function replica(r: () => number, start: number, end: number, step: number, offset: number, counter: boolean): { ts: number[]; vs: (number | "stale")[] } {
  const ts: number[] = [], vs: (number | "stale")[] = [];
  let v = Math.floor(r() * 100);
  for (let t = start + offset; t < end; t += step) {
    if (r() < 0.02) { t += step * Math.floor(r() * 20); continue; } // a gap (replica restart)
    ts.push(t + Math.floor(r() * 50));
    if (r() < 0.01) { vs.push("stale"); continue; }
    v = counter ? v + Math.floor(r() * 10) : Math.round(r() * 1000) / 10;
    if (counter && r() < 0.01) v = 0; // a counter reset
    vs.push(v);
  }
  return { ts, vs };
}

interface Case { mode: MergeMode; lists: MChunk[][] }

function cases(): Case[] {
  const r = rng(42);
  const out: Case[] = [];
  for (let i = 0; i < 120; i++) {
    const mode: MergeMode = i % 2 === 0 ? "compact" : "penalty";
    const k = 2 + (i % 3);
    const lists: MChunk[][] = [];
    const span = 3600e3 * (1 + Math.floor(r() * 4));
    const step = [15000, 30000, 10000][i % 3]!;
    for (let j = 0; j < k; j++) {
      const kind = i % 7;
      let s;
      if (kind === 0 && j > 0) {
        // An exact copy of the first list (a duplicate upload).
        lists.push(lists[0]!.map((c) => ({ ...c })));
        continue;
      }
      if (kind === 1) s = replica(rng(7 + i), 0, span, step, 0, true); // identical samples, same cuts
      else s = replica(r, j * (span / (k + 1)) * (kind === 2 ? 1 : 0), span, step, Math.floor(r() * step), i % 4 === 0);
      lists.push(chunksOf(s.ts, s.vs, kind === 3 ? 37 + j * 11 : 120));
    }
    out.push({ mode, lists });
  }
  return out;
}

test("mergeChunks gives byte-identical chunks to Prometheus' compacting merger and Thanos' penalty merger", async () => {
  const bin = await buildGo("go-merge", GO_MOD, MAIN_GO);
  const cs = cases();
  const input = JSON.stringify(cs.map((c) => ({ mode: c.mode, lists: c.lists.map((l) => l.map((x) => ({ minTime: x.minTime, maxTime: x.maxTime, data: hex(x.data) }))) })));
  const want = JSON.parse(execFileSync(bin, [], { input, maxBuffer: 1 << 28 }).toString()) as { minTime: number; maxTime: number; data: string }[][];
  let chunksCompared = 0, reencoded = 0;
  cs.forEach((c, i) => {
    const got = mergeChunks(c.lists, c.mode, `case ${i}`).map((x) => ({ minTime: x.minTime, maxTime: x.maxTime, data: hex(x.data) }));
    assert.equal(got, want[i], `case ${i} (${c.mode}, ${c.lists.length} lists)`);
    chunksCompared += got.length;
    const inputs = new Set(c.lists.flat().map((x) => hex(x.data)));
    reencoded += got.filter((x) => !inputs.has(x.data)).length;
  });
  assert.ok(chunksCompared > 500, `compared ${chunksCompared} chunks`);
  console.log(`  ${chunksCompared} chunks compared, ${reencoded} of them re-encoded by a merge`);
  assert.ok(reencoded > 200, `${reencoded} re-encoded chunks among them`);
});

test.run();
