// The oracle itself: a real Prometheus serves blocks that promtool backfilled.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { tempDir } from "../lib/proc.ts";
import { promApi, promtoolBackfill, startPrometheus } from "../lib/prometheus.ts";

test("promtool backfill + Prometheus answers a query over the backfilled block", async () => {
  const dir = tempDir().path;
  const t0 = 1_700_000_000;
  let om = "# TYPE demo gauge\n";
  for (let i = 0; i < 10; i++) om += `demo{k="v"} ${i} ${t0 + i * 15}\n`;
  om += "# EOF\n";
  await promtoolBackfill(om, dir);
  const p = await startPrometheus({ dataDir: dir });
  try {
    const r = await promApi(p.url, "/api/v1/query", { query: "demo", time: String(t0 + 9 * 15) });
    assert.is(r.status, "success");
    assert.equal(r.data.result, [{ metric: { __name__: "demo", k: "v" }, value: [t0 + 135, "9"] }]);
  } finally {
    await p.stop();
  }
});

test.run();
