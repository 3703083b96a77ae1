// `tools bucket downsample`: the compactor's downsampling alone, repeated every --wait-interval (Thanos'
// RunDownsample): two passes per round (raw blocks of >= 40h to 5m, then 5m blocks of >= 10d to 1h),
// serving /metrics, /-/healthy, /-/ready on --http-address. Thanos' filters for it: deduplication and
// no-downsample marks. One difference: Thanos' standalone downsampler gathers no-downsample marks but
// does not skip the marked blocks (only its compactor does); here they are skipped, as the mark says.
// A failed round ends the process, as in Thanos.

import { Hono } from "hono";
import { deduplicateFilter, gatherNoDownsampleMarks } from "../../../shared/block/fetcher.ts";
import { defaultSleep } from "../../../shared/compact/compactor.ts";
import { wrapError } from "../../../shared/compact/errors.ts";
import { FlagError, type FlagSpec, parseDurationMs } from "../../flags.ts";
import { HTTP_CONFIG_FLAG } from "../../tls/flags.ts";
import { HTTP_FLAGS } from "../../http.ts";
import { Registry } from "../../metrics.ts";
import { serveWhile, setupTool, toolCompactor } from "./common.ts";

const specs: FlagSpec[] = [
  ...HTTP_FLAGS,
  HTTP_CONFIG_FLAG,
  { name: "wait-interval", help: "Wait interval between downsample runs.", default: "5m" },
  { name: "downsample.concurrency", help: "Number of goroutines to use when downsampling blocks.", default: "1" },
  { name: "block-files-concurrency", help: "Number of goroutines to use when fetching/uploading block files from object storage.", default: "1" },
  { name: "data-dir", help: "Data directory in which to cache blocks and process downsamplings.", default: "./data" },
  { name: "hash-func", help: "Hash function for the files of produced blocks: \"\" (none) or SHA256.", default: "" },
];

function posInt(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n <= 0) throw new FlagError(`--${flag}: ${JSON.stringify(v)} is not a positive integer`);
  return n;
}

export async function run(argv: string[]): Promise<number> {
  const t = await setupTool("downsample", "Continuously downsamples blocks in an object store bucket.", specs, argv);
  if (!t) return 0;
  const { f, log } = t;
  const hashFunc = f.get("hash-func")!;
  if (hashFunc !== "" && hashFunc !== "SHA256") throw new FlagError(`--hash-func: enum value must be one of SHA256,, got '${hashFunc}'`);
  const waitMs = parseDurationMs("wait-interval", f.get("wait-interval")!);
  const reg = new Registry();
  const c = toolCompactor(t, {
    downsampleConcurrency: posInt("downsample.concurrency", f.get("downsample.concurrency")!),
    blockFilesConcurrency: posInt("block-files-concurrency", f.get("block-files-concurrency")!),
    hashFunc: hashFunc as "" | "SHA256",
    consistencyDelayMs: 0,
  }, [deduplicateFilter(), gatherNoDownsampleMarks()], { dataDir: f.get("data-dir")!, reg });

  log("info", "starting downsample node");
  return serveWhile(t, new Hono(), reg, async (signal) => {
    while (!signal.aborted) {
      log("info", "start first pass of downsampling");
      await c.syncMetas().catch((e) => { throw wrapError("sync before first pass of downsampling", e); });
      await c.downsamplePass().catch((e) => { throw wrapError("downsampling failed", e); });
      log("info", "start second pass of downsampling");
      await c.syncMetas().catch((e) => { throw wrapError("sync before second pass of downsampling", e); });
      await c.downsamplePass().catch((e) => { throw wrapError("downsampling failed", e); });
      await defaultSleep(waitMs, signal);
    }
  });
}
