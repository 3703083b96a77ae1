// `tools bucket mark`: put (or with --remove take away) deletion-mark.json, no-compact-mark.json or
// no-downsample-mark.json on blocks, as Thanos' `tools bucket mark` does: the marker's JSON, the
// "manual" reason, the log lines, and an existing marker left as it is (a warning).

import { markBlockLogged, MARKER_FILES, type MarkerKind, unmarkBlockLogged } from "../../../shared/block/markers.ts";
import { isUlid } from "../../../shared/tsdb/ulid.ts";
import { FlagError, type FlagSpec } from "../../flags.ts";
import { done, setupTool } from "./common.ts";

const KINDS = Object.fromEntries(Object.entries(MARKER_FILES).map(([k, file]) => [file, k as MarkerKind]));

const specs: FlagSpec[] = [
  { name: "id", repeatable: true, required: true, help: "ID (ULID) of the blocks to be marked for deletion (repeated flag)" },
  { name: "marker", required: true, help: `Marker to be put: ${Object.keys(KINDS).join(", ")}.` },
  { name: "details", help: "Human readable details to be put into marker." },
  { name: "remove", boolean: true, help: "Remove the marker." },
];

export async function run(argv: string[]): Promise<number> {
  const t = await setupTool("mark", SUMMARY, specs, argv);
  if (!t) return 0;
  const { f, bkt, log } = t;
  const marker = f.get("marker")!;
  const kind = KINDS[marker];
  if (!kind) throw new FlagError(`--marker: enum value must be one of ${Object.keys(KINDS).join(",")}, got '${marker}'`);
  const ids = f.all("id");
  for (const id of ids) if (!isUlid(id)) throw new FlagError(`block.id is not a valid UUID, got: ${id}`);
  const details = f.get("details") ?? "";
  const remove = f.bool("remove");
  if (!remove && details === "") throw new FlagError("required flag --details not provided");
  for (const id of ids) {
    try {
      if (remove) await unmarkBlockLogged(bkt, id, kind, log);
      else await markBlockLogged(bkt, id, kind, { details }, log);
    } catch (e) {
      throw new Error(`${remove ? "remove mark" : "mark"} ${id} for ${marker}: ${(e as Error).message}`, { cause: e });
    }
  }
  log("info", "marking done", { marker, IDs: ids.join(",") });
  return done(t);
}

const SUMMARY = "Mark block for deletion or no-compact in a safe way. NOTE: If the compactor is currently running compacting same block, this operation would be potentially a noop.";
