// gRPC message compression `snappy`, as Thanos registers it (pkg/extgrpc/snappy): grpc-encoding
// "snappy", each compressed message one snappy *framed* stream (shared/encoding/snappyframed.ts).
// Give it to connect as `sendCompression` (clients: Thanos' --grpc-compression=snappy) and in
// `acceptCompression` (servers: Thanos queriers started with --grpc-compression=snappy).
import { Code, ConnectError } from "@connectrpc/connect";
import type { Compression } from "@connectrpc/connect/protocol";
import { errorCode, errorMessage } from "../encoding/errors.ts";
import { snappyFramedDecode, snappyFramedEncode } from "../encoding/snappyframed.ts";

export const SNAPPY = "snappy";

export const compressionSnappy: Compression = {
  name: SNAPPY,
  compress: async (bytes) => snappyFramedEncode(bytes) as Uint8Array<ArrayBuffer>,
  decompress: async (bytes, readMaxBytes) => {
    if (bytes.length === 0) return new Uint8Array(0);
    try {
      return snappyFramedDecode(bytes, readMaxBytes, "snappy-compressed gRPC message") as Uint8Array<ArrayBuffer>;
    } catch (e) {
      throw new ConnectError(errorMessage(e), errorCode(e) === "resource_exhausted" ? Code.ResourceExhausted : Code.InvalidArgument);
    }
  },
};
