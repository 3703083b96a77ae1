// A StoreAPI gRPC server with one large Series answer, for test/integration/rpc-go-thanos.test.ts: run
// under Bun (`bun test/lib/big-grpc-server.ts SERIES CHUNK_BYTES`), so a Go client reads it through our
// HTTP/2 server (agent/grpc/h2server.ts) on Bun. Prints "LISTEN host:port".
// Series i has labels {__name__="big", i="<i>"} and 4 chunks of CHUNK_BYTES bytes each; the first two
// bytes of a chunk hold i & 0xffff, the rest (i + k + j) & 0xff.
import { startGrpcServer } from "../../agent/grpc/server.ts";
import type { StoreApiServices } from "../../shared/rpc/store.ts";

const n = Number(process.argv[2] ?? 10_000), size = Number(process.argv[3] ?? 800);
const services: StoreApiServices = {
  store: {
    async *series() {
      for (let i = 0; i < n; i++) {
        const chunks = [0, 1, 2, 3].map((k) => {
          const data = Uint8Array.from({ length: size }, (_, j) => (j === 0 ? i >> 8 : j === 1 ? i : i + k + j) & 0xff);
          return { minTime: BigInt(k * 1000), maxTime: BigInt(k * 1000 + 999), raw: { type: 0, data } };
        });
        yield { result: { case: "series" as const, value: { labels: [{ name: "__name__", value: "big" }, { name: "i", value: String(i) }], chunks } } };
      }
    },
    async labelNames() { return { names: ["__name__", "i"] }; },
    async labelValues() { return { values: [] }; },
  },
};
const s = await startGrpcServer(services, {});
console.log(`LISTEN ${s.address}`);
process.on("SIGTERM", () => void s.close().then(() => process.exit(0)));
