// Profile our store gateway on one query of bench/store-data.ts: the store runs under
// `bun --cpu-prof-md` (a markdown CPU profile written when it exits) behind a Thanos querier (or ours);
// the query is asked --n times after one warm-up, and the per-call times are printed. With --thanos-store,
// the same for Thanos' store gateway (timings only) for comparison.
//
//   bun bench/store-profile.ts --data /tmp/store-data --dataset promql --query 'instant count' [--n 20]
//      [--querier thanos|ours] [--out DIR] [--no-prof]
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { freePort, startProcess, tempDir, waitForHealthyStores, waitForHttp } from "../test/lib/proc.ts";
import { thanosBinary } from "../test/lib/thanos.ts";
import { dataset, params } from "./store-data.ts";

const argv = process.argv.slice(2);
const opt = (name: string, def: string): string => { const i = argv.indexOf(`--${name}`); return i >= 0 ? argv[i + 1]! : def; };
const N = Number(opt("n", "20"));
const root = join(import.meta.dirname ?? ".", "..");
const bun = join(root, "node_modules/.bin/bun");
const data = opt("data", "");
if (!data) throw new Error("--data DIR is required");
const ds = await dataset(opt("dataset", "promql"), join(data, opt("dataset", "promql")));
const re = new RegExp(opt("query", "instant count"));
const qs = ds.queries.filter((q) => re.test(q.name));
if (qs.length === 0) throw new Error(`no query matches ${re}: ${ds.queries.map((q) => q.name).join("; ")}`);
const work = tempDir("store-profile-").path;
const bucket = join(work, "bucket");
cpSync(ds.blocks, bucket, { recursive: true });
const cfg = join(work, "bucket.yml");
writeFileSync(cfg, `type: FILESYSTEM\nconfig:\n  directory: ${bucket}\n`);
const out = opt("out", join(work, "prof"));
mkdirSync(out, { recursive: true });
const thanos = await thanosBinary();

async function side(kind: "ours" | "thanos"): Promise<void> {
  const [sh, sg, qh, qg] = [await freePort(), await freePort(), await freePort(), await freePort()];
  const dataDir = join(work, `data-${kind}`);
  const prof = argv.includes("--no-prof") ? [] : ["--cpu-prof-md", `--cpu-prof-dir=${out}`];
  const store = kind === "ours"
    ? startProcess(bun, [...prof, join(root, "agent/main.ts"), "store", ...(process.env.STORE_ARGS ? process.env.STORE_ARGS.split(" ") : []), `--objstore.config-file=${cfg}`, `--data-dir=${dataDir}`,
      `--grpc-address=127.0.0.1:${sg}`, `--http-address=127.0.0.1:${sh}`, "--log.level=warn"], { cwd: root })
    : startProcess(thanos, ["store", `--objstore.config-file=${cfg}`, `--data-dir=${dataDir}`, `--grpc-address=127.0.0.1:${sg}`,
      `--http-address=127.0.0.1:${sh}`, "--log.level=warn"]);
  await waitForHttp(`http://127.0.0.1:${sh}/-/ready`, store, 300_000);
  const querier = opt("querier", "thanos") === "thanos" || kind === "thanos"
    ? startProcess(thanos, ["query", `--endpoint=127.0.0.1:${sg}`, `--http-address=127.0.0.1:${qh}`, `--grpc-address=127.0.0.1:${qg}`, "--log.level=warn"])
    : startProcess(bun, [join(root, "agent/main.ts"), "query", `--endpoint=127.0.0.1:${sg}`, `--http-address=127.0.0.1:${qh}`, "--log.level=warn"], { cwd: root });
  const url = `http://127.0.0.1:${qh}`;
  await waitForHttp(`${url}/-/ready`, querier, 60_000);
  await waitForHealthyStores(url, 1, 60_000);
  for (const q of qs) {
    const { path, body } = params(q);
    const once = async () => {
      const t0 = performance.now();
      const r = q.kind === "values" ? await fetch(url + path) : await fetch(url + path, { method: "POST", body });
      const text = await r.text();
      if (!r.ok) throw new Error(text.slice(0, 300));
      return performance.now() - t0;
    };
    const cold = await once();
    const ts: number[] = [];
    for (let i = 0; i < N; i++) ts.push(await once());
    ts.sort((a, b) => a - b);
    console.log(`${kind.padEnd(6)} ${q.name.slice(0, 70).padEnd(70)} cold ${cold.toFixed(1)} ms, warm median ${ts[ts.length >> 1]!.toFixed(1)} ms (min ${ts[0]!.toFixed(1)}, max ${ts[ts.length - 1]!.toFixed(1)})`);
  }
  const st = readFileSync(`/proc/${store.child.pid}/status`, "utf8");
  console.log(`${kind.padEnd(6)} store RSS ${Number(/VmRSS:\s+(\d+)/.exec(st)![1]) >> 10} MiB, peak ${Number(/VmHWM:\s+(\d+)/.exec(st)![1]) >> 10} MiB`);
  await querier.stop();
  await store.stop();
}

await side("ours");
if (argv.includes("--thanos-store")) await side("thanos");
if (!argv.includes("--no-prof")) {
  for (const f of readdirSync(out)) console.log(`profile: ${join(out, f)}`);
  if (!existsSync(out)) console.log("no profile written");
}
process.exit(0);
