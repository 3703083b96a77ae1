// Reads test/promql/parse-corpus*.txt: one query per line, "#" comments, "json:" for escaped lines.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export function loadCorpus(file = "parse-corpus.txt"): string[] {
  const path = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "promql", file);
  const out: string[] = [];
  for (const line of readFileSync(path, "utf8").split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    out.push(line.startsWith("json:") ? (JSON.parse(line.slice(5)) as string) : line);
  }
  return out;
}
