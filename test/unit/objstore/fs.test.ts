import { FilesystemBucket } from "../../../agent/objstore/fs.ts";
import { tempDir } from "../../lib/proc.ts";
import { bucketContract } from "./contract.ts";

const dir = tempDir("objstore-fs-");
let n = 0;
bucketContract("filesystem", async () => new FilesystemBucket(`${dir.path}/b${n++}`), { after: async () => dir.remove() });
