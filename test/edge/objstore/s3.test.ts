// S3Bucket under every edge runtime (Node, Bun, Deno), against s3rver in a child Node process: the SDK's
// runtime builds differ (node:http vs fetch), so each runtime gets the whole contract.
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { S3Bucket } from "../../../shared/objstore/s3.ts";
import { bucketContract } from "../../unit/objstore/contract.ts";
import { type S3Server, startS3rver } from "../../unit/objstore/s3rver.ts";

let server: S3Server | undefined;
const made: S3Bucket[] = [];
let n = 0;

bucketContract("S3 (edge runtimes, s3rver)", async () => {
  const name = `edge-${n++}`;
  const b = new S3Bucket({
    bucket: name, endpoint: server!.endpoint, region: "us-east-1", forcePathStyle: true,
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" }, maxAttempts: 1,
  });
  made.push(b);
  await b.client.send(new CreateBucketCommand({ Bucket: name }));
  return b;
}, {
  knownAs: "s3rver",
  // Pagination is covered by test/integration/objstore-s3.test.ts; three runtimes x 1100 uploads is not
  // worth the time here.
  manyKeys: 60,
  before: async () => { server = await startS3rver([]); },
  after: async () => { for (const b of made) b.destroy(); await server?.stop(); },
});
