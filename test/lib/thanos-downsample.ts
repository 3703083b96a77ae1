// Thanos' own downsampler as a program (test/lib/go/thanos-downsample.go, built once with buildGo and
// cached): the oracle for shared/compact/downsample.ts and the peer in bench/downsample.ts; and
// test/lib/go/thanos-series-iter.go, Thanos' querier's reading of downsampled series.
// The go.mod pins what Thanos v0.41.0's own go.mod pins (its `replace` block): without them `go mod
// tidy` resolves newer grpc/capnp versions than Thanos builds against.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { buildGo } from "./gobuild.ts";

const run = promisify(execFile);

/** A go.mod for a program importing Thanos v0.41.0 packages (its `replace` block; the module name is set per program). */
export const THANOS_GO_MOD = `module thanots/thanosdownsample

go 1.25.0

require github.com/thanos-io/thanos v0.41.0

replace (
	capnproto.org/go/capnp/v3 => capnproto.org/go/capnp/v3 v3.0.0-alpha.30
	github.com/bradfitz/gomemcache => github.com/themihai/gomemcache v0.0.0-20180902122335-24332e2d58ab
	github.com/sercand/kuberesolver/v4 => github.com/sercand/kuberesolver/v5 v5.1.1
	github.com/vimeo/galaxycache => github.com/thanos-community/galaxycache v0.0.0-20211122094458-3a32041a1f1e
	google.golang.org/grpc => github.com/thanos-community/grpc-go v0.0.0-20251106112228-b9020406f781
	gopkg.in/alecthomas/kingpin.v2 => github.com/alecthomas/kingpin v1.3.8-0.20210301060133-17f40c25f497
	zenhack.net/go/util => github.com/zenhack/go-util v0.0.0-20231005031245-66f5419c2aea
)
`;

let bin: Promise<string> | null = null;
let iterBin: Promise<string> | null = null;

/** test/lib/go/thanos-series-iter.go built: Thanos' querier's reading of a store's series. */
export function thanosSeriesIter(): Promise<string> {
  // slicelabels: Thanos' labelpb casts its labels to Prometheus' slice layout (see test/lib/thanos.ts).
  iterBin ??= buildGo("thanos-series-iter", THANOS_GO_MOD, readFileSync(fileURLToPath(new URL("go/thanos-series-iter.go", import.meta.url)), "utf8"), { tags: "slicelabels" });
  return iterBin;
}

/** Path of the built program (first call builds it: a few minutes on 2 cores, then cached). */
export function thanosDownsampler(): Promise<string> {
  bin ??= buildGo("thanos-downsample", THANOS_GO_MOD, readFileSync(fileURLToPath(new URL("go/thanos-downsample.go", import.meta.url)), "utf8"));
  return bin;
}

export interface GoDownsampleResult { ulid: string; ns: number[]; cpu_ns: number[]; samples: number }

/** Downsample the block in `inDir` into a new block under `outDir` with Thanos' code. */
export async function thanosDownsample(inDir: string, outDir: string, resolution: number, repeat = 1): Promise<GoDownsampleResult> {
  const b = await thanosDownsampler();
  const { stdout } = await run(b, [inDir, outDir, String(resolution), String(repeat)], { maxBuffer: 1 << 24, timeout: 600_000 });
  return JSON.parse(stdout.trim().split("\n").pop()!) as GoDownsampleResult;
}
