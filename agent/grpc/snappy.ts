// Our gRPC servers and Thanos' snappy codec: requests compressed with it (a Thanos component started
// with --grpc-compression=snappy) are accepted; answers go uncompressed. grpc-go clients list every
// codec they know in grpc-accept-encoding, snappy included, and connect would then compress every
// answer in JS for them; compressing XOR chunks costs CPU for little (they barely compress). So
// `snappy` is taken out of grpc-accept-encoding before connect reads it.
import type { Http2ServerRequest, Http2ServerResponse } from "node:http2";

export function noSnappyAnswers<R extends Http2ServerRequest, S extends Http2ServerResponse>(handler: (req: R, res: S) => void): (req: R, res: S) => void {
  return (req, res) => {
    const acc = req.headers["grpc-accept-encoding"];
    if (typeof acc === "string" && acc.includes("snappy")) {
      const rest = acc.split(",").map((s) => s.trim()).filter((s) => s !== "snappy" && s !== "");
      if (rest.length > 0) req.headers["grpc-accept-encoding"] = rest.join(",");
      else delete req.headers["grpc-accept-encoding"];
    }
    handler(req, res);
  };
}
