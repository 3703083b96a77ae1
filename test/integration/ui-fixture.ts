// A self-contained app for the UI runtime test (ui-runtimes.test.ts): the query API over a few
// in-memory series plus the UI, with no runtime API, so workerd and Deno can host it unchanged.
import type { Hono } from "hono";
import { createQueryApi } from "../../edge/api/query-api.ts";
import { mountUi } from "../../edge/ui/app.ts";
import { labelsFrom } from "../../shared/labels/labels.ts";
import { Engine } from "../../shared/promql/engine.ts";
import { MemoryQuerier, type MemorySeries } from "../../shared/storage/memory.ts";

/** Last sample time, Unix seconds. Data covers the two hours before it at 15 s. */
export const FIXTURE_END = 1_700_007_200;

export function uiFixtureApp(title = "thanots query"): Hono {
  const series: MemorySeries[] = [];
  for (const [h, k] of [["h1", 1], ["h2", 2], ["h3", 3], ["h4", 5]] as const) {
    const ts: number[] = [], vs: number[] = [];
    for (let i = 0; i <= 480; i++) {
      if (h === "h4" && i >= 350 && i < 400) continue; // a hole the graph must show
      ts.push((FIXTURE_END - 7200 + i * 15) * 1000);
      vs.push(Math.round((k * 10 + Math.sin(i / (8 * k)) * k) * 1000) / 1000);
    }
    series.push({ labels: labelsFrom({ __name__: "fixture_load", host: h, dc: k % 2 ? "odd" : "even" }), ts, vs });
  }
  const q = new MemoryQuerier(series);
  return mountUi(createQueryApi({ engine: new Engine(), querier: () => q, now: () => FIXTURE_END * 1000 }), { title });
}
