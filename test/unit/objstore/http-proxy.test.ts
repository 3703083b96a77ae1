// The test worker's HTTP bucket protocol, in-process: the contract through HttpBucket -> bucketHandler ->
// MemoryBucket, so a failure in the R2 run can be told apart from a failure of the proxy itself.
import { bucketHandler, HttpBucket } from "../../../edge/worker-test/protocol.ts";
import { MemoryBucket } from "../../../shared/objstore/memory.ts";
import { bucketContract } from "./contract.ts";

bucketContract("HTTP proxy over memory", async (t) => {
  const handler = bucketHandler(new MemoryBucket(`mem:${t}`));
  return new HttpBucket("http://proxy.test/bucket", { fetch: (u, init) => handler(new Request(u, init)) });
});
