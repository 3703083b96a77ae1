// An s3rver S3 API server in a child Node process (see s3rver-child.mjs for why), for tests running under
// Node, Bun or Deno.
import { fileURLToPath } from "node:url";
import { startProcess, tempDir } from "../../lib/proc.ts";

export interface S3Server {
  endpoint: string;
  stop(): Promise<void>;
}

export async function startS3rver(buckets: string[]): Promise<S3Server> {
  const dir = tempDir("s3rver-");
  const script = fileURLToPath(new URL("./s3rver-child.mjs", import.meta.url));
  const proc = startProcess("node", ["--openssl-legacy-provider", script, dir.path, ...buckets]);
  const port = await new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`s3rver did not start in 20 s:\n${proc.output()}`)), 20_000);
    let buf = "";
    proc.child.stdout!.on("data", (b: Buffer) => {
      buf += b.toString();
      const m = /\{"port":(\d+)\}/.exec(buf);
      if (m) { clearTimeout(t); resolve(Number(m[1])); }
    });
    proc.exited.then((c) => { clearTimeout(t); reject(new Error(`s3rver exited (${c}):\n${proc.output()}`)); });
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    async stop() { await proc.stop(); dir.remove(); },
  };
}
