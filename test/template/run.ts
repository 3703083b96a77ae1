// Runs template cases through shared/template the way the oracle runs them through Go.
import { expandTemplate } from "../../shared/template/index.ts";
import { parseFloat64 } from "../../shared/template/strconv.ts";
import type { TemplateCase } from "./corpus.ts";

export async function expandOurs(c: TemplateCase): Promise<string> {
  const value = parseFloat64(c.value);
  if (value.err !== undefined) throw new Error(`case ${c.id}: bad value ${c.value}`);
  return expandTemplate(c.name, c.text, { labels: c.labels, externalLabels: c.externalLabels, externalURL: c.externalURL, value: value.v }, {
    timestampMs: c.tsMs,
    externalURL: c.funcURL ?? undefined,
    query: async (q) => {
      const a = c.queries[q];
      if (a === undefined) throw new Error(`no answer for query ${JSON.stringify(q)}`);
      if (a.error !== undefined) throw new Error(a.error);
      return (a.samples ?? []).map((s) => ({ labels: s.labels, value: parseFloat64(s.value).v }));
    },
  });
}
