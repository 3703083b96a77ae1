// `tools bucket verify`: check the bucket's blocks for Thanos' known issues (shared/compact/verify.ts),
// with Thanos' flags: --issues (-i, default index_known_issues and overlapped_blocks), --id, --repair
// (-r, needs --objstore-backup.config[-file]), --delete-delay (0s: repaired blocks are deleted at once).

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ignoreDeletionMarkFilter } from "../../../shared/block/fetcher.ts";
import { DEFAULT_ISSUES, REPAIRERS, selectIssues, VERIFIERS, verifyBucket } from "../../../shared/compact/verify.ts";
import { ulidParseError } from "../../../shared/tsdb/ulid.ts";
import { DiskWorkspace } from "../../compact/workspace.ts";
import { FlagError, type FlagSpec, parseDurationMs } from "../../flags.ts";
import { bucketFromConfig, bucketFromConfigFile } from "../../objstore/factory.ts";
import { done, setupTool, syncMetas, toolCompactor } from "./common.ts";

const specs: FlagSpec[] = [
  { name: "objstore-backup.config-file", help: "Path to YAML file that contains object store-backup configuration. Used for repair logic to backup blocks before removal." },
  { name: "objstore-backup.config", help: "Alternative to 'objstore-backup.config-file' flag (mutually exclusive): the YAML itself." },
  { name: "repair", short: "r", boolean: true, help: "Attempt to repair blocks for which issues were detected" },
  { name: "issues", short: "i", repeatable: true, help: `Issues to verify (and optionally repair). Possible issue to verify, without repair: [${VERIFIERS.join(" ")}]; Possible issue to verify and repair: [${REPAIRERS.join(" ")}] (default ${DEFAULT_ISSUES.join(", ")})` },
  { name: "id", repeatable: true, help: "Block IDs to verify (and optionally repair) only. If none is specified, all blocks will be verified. Repeated field" },
  { name: "delete-delay", help: "Duration after which blocks marked for deletion would be deleted permanently from source bucket by compactor component. If delete-delay is non zero, blocks will be marked for deletion and compactor component is required to delete blocks from source bucket. If delete-delay is 0, blocks will be deleted straight away.", default: "0s" },
];

export async function run(argv: string[]): Promise<number> {
  const t = await setupTool("verify", "Verify all blocks in the bucket against specified issues. NOTE: Depending on issue this might take time and will need downloading all specified blocks to disk.", specs, argv);
  if (!t) return 0;
  const { f } = t;
  const repair = f.bool("repair");
  const bf = f.get("objstore-backup.config-file"), bc = f.get("objstore-backup.config");
  if (bf && bc) throw new FlagError("give either --objstore-backup.config-file or --objstore-backup.config, not both");
  const backup = bf ? await bucketFromConfigFile(bf) : bc ? (await bucketFromConfig(bc, "--objstore-backup.config")).bucket : null;
  if (repair && !backup) throw new FlagError("repair is specified, so backup client is required");
  const sel = selectIssues(f.all("issues").length > 0 ? f.all("issues") : DEFAULT_ISSUES, repair);
  let ids: Set<string> | null = null;
  if (f.all("id").length > 0) {
    ids = new Set();
    for (const id of f.all("id")) {
      const bad = ulidParseError(id);
      if (bad) throw new FlagError(`invalid ULID found in --id flag: ${bad}`);
      ids.add(id);
    }
  }
  const dataDir = await mkdtemp(join(tmpdir(), "thanots-verify-"));
  try {
    const c = toolCompactor(t, {}, [], { dataDir });
    await verifyBucket({
      bkt: t.bkt, backup, log: t.log,
      fetch: async () => (await syncMetas(t, [ignoreDeletionMarkFilter(0)])).metas,
      deleteDelayMs: parseDurationMs("delete-delay", f.get("delete-delay")!),
      ws: new DiskWorkspace(dataDir),
      upload: (dir, meta) => c.upload(dir, meta),
    }, sel, ids, repair);
    if (repair) await c.refreshBucketIndex();
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
  return done(t);
}
