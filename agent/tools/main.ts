// `bun run agent tools <group> <command> …`: a table of subcommands, each a module with
// `run(argv)`. Adding one is one line here.
import { PROGRAM } from "../program.ts";

interface Command { summary: string; load: () => Promise<{ run(argv: string[]): Promise<number | void> }> }

export const commands: Record<string, Command> = {
  "tsdb dump": { summary: "print every sample of the blocks under a TSDB path, like promtool tsdb dump", load: () => import("./tsdb/dump.ts") },
  "tsdb list": { summary: "the blocks under a TSDB path with their time ranges and stats, like promtool tsdb list", load: () => import("./tsdb/list.ts") },
  "tsdb analyze": { summary: "series, chunk, sample counts and label cardinality per block", load: () => import("./tsdb/analyze.ts") },
  "bucket ls": { summary: "list the blocks in a bucket (-o wide|json|<template>), as Thanos' tools bucket ls", load: () => import("./bucket/ls.ts") },
  "bucket inspect": { summary: "a table of the bucket's blocks (table, csv, tsv), as Thanos' tools bucket inspect", load: () => import("./bucket/inspect.ts") },
  "bucket verify": { summary: "check the bucket for overlapped blocks, index issues, duplicated compactions (--repair where Thanos can)", load: () => import("./bucket/verify.ts") },
  "bucket mark": { summary: "put or remove (--remove) a deletion, no-compact or no-downsample mark on blocks", load: () => import("./bucket/mark.ts") },
  "bucket cleanup": { summary: "delete blocks marked for deletion past --delete-delay and aborted partial uploads", load: () => import("./bucket/cleanup.ts") },
  "bucket retention": { summary: "mark blocks past --retention.resolution-* for deletion (no compactor may run meanwhile)", load: () => import("./bucket/retention.ts") },
  "bucket downsample": { summary: "continuously downsample the bucket's blocks (the compactor's downsampling alone)", load: () => import("./bucket/downsample.ts") },
  "bucket web": { summary: "the blocks page: a timeline of the bucket's blocks, their metas and marks (Thanos' block viewer)", load: () => import("./bucket/web.ts") },
  "bucket index": { summary: "rebuild bucket-index.json from a listing of the bucket", load: () => import("./bucket/rebuild-index.ts") },
  "rules check": { summary: "check rule files like promtool check rules (Thanos' partial_response_strategy accepted)", load: () => import("./rules-check.ts") },
  "rules test": { summary: "unit-test rules like promtool test rules (same file format, output and exit codes)", load: () => import("./rules-test.ts") },
  "tsdb create-blocks-from": { summary: "backfill blocks from OpenMetrics text (openmetrics <file> <dir>) or recording rules over a query API (rules --start T --url U <files>)", load: () => import("./tsdb/create-blocks.ts") },
};

function usage(): string {
  const names = Object.keys(commands);
  const w = Math.max(...names.map((n) => n.length));
  return [`usage: ${PROGRAM} tools <command> [flags] [args]   (${PROGRAM} tools <command> --help for its flags)`, "", "commands:",
    ...names.map((n) => `  ${n.padEnd(w)}  ${commands[n]!.summary}`)].join("\n");
}

export async function run(argv: string[]): Promise<number> {
  // Longest prefix of the args naming a command ("tsdb dump", later "bucket ls", …).
  for (let k = Math.min(argv.length, 3); k >= 1; k--) {
    const c = commands[argv.slice(0, k).join(" ")];
    if (c) return (await (await c.load()).run(argv.slice(k))) ?? 0;
  }
  const asked = argv.length === 0 || argv[0] === "--help" || argv[0] === "-h" || argv[0] === "help";
  (asked ? console.log : console.error)((asked ? "" : `unknown tools command ${JSON.stringify(argv.join(" "))}\n\n`) + usage());
  return asked ? 0 : 2;
}
