// The in-memory bucket and the shared block/retry code under every runtime the edge runs on (this
// directory runs under Node, Bun and Deno).
import { MemoryBucket } from "../../../shared/objstore/memory.ts";
import { bucketContract } from "../../unit/objstore/contract.ts";

bucketContract("memory (edge runtimes)", async (t) => new MemoryBucket(`mem:${t}`));
