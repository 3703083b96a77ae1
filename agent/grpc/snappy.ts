// Our gRPC servers and Thanos' snappy codec: requests compressed with it (a Thanos component started
// with --grpc-compression=snappy) are accepted; answers go uncompressed. grpc-go clients list every
// codec they know in grpc-accept-encoding, snappy included, and connect would then compress every
// answer in JS for them; compressing XOR chunks costs CPU for little (they barely compress). So
// `snappy` is taken out of grpc-accept-encoding before connect reads it.

/** Removes snappy from a request's grpc-accept-encoding (headers by lowercase name), in place. */
export function dropSnappyAccept(headers: Record<string, string>): void {
  const acc = headers["grpc-accept-encoding"];
  if (acc === undefined || !acc.includes("snappy")) return;
  const rest = acc.split(",").map((s) => s.trim()).filter((s) => s !== "snappy" && s !== "");
  if (rest.length > 0) headers["grpc-accept-encoding"] = rest.join(",");
  else delete headers["grpc-accept-encoding"];
}
