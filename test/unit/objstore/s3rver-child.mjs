// Runs s3rver in its own Node process: `node --openssl-legacy-provider s3rver-child.mjs DIR BUCKET...`.
// Prints {"port": N} once listening and serves until SIGTERM.
// Why a child: s3rver's continuation tokens use DES, which Node 20's OpenSSL 3 refuses without the legacy
// provider (listings past 1000 keys fail with HTTP 500), and under Bun its listings come back unsorted.
import S3rver from "s3rver";

const [dir, ...buckets] = process.argv.slice(2);
const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory: dir, configureBuckets: buckets.map((name) => ({ name })) });
const { port } = await server.run();
process.stdout.write(JSON.stringify({ port }) + "\n");
const stop = () => server.close().finally(() => process.exit(0));
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
