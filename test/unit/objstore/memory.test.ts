import { MemoryBucket } from "../../../shared/objstore/memory.ts";
import { withPrefix } from "../../../shared/objstore/prefix.ts";
import { bucketContract } from "./contract.ts";

bucketContract("memory", async (t) => new MemoryBucket(`mem:${t}`));
// The same contract through a prefix (Thanos' `prefix:`), sharing one underlying bucket with an object
// outside the prefix that no listing may show.
const shared = new MemoryBucket("mem:shared");
bucketContract("memory under a prefix", async (t) => withPrefix(shared, `tenant/${t}`), {
  before: () => shared.upload("outside/of/prefix", new Uint8Array([1])),
});
