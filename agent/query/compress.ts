// Answer compression for the agent's query APIs (Bun): zlib at level 1.
//
// Why not the default (CompressionStream, zlib level 6): on a 1 MB range answer level 6 took 16 ms of
// CPU on Bun, level 1 2.7 ms, for 310 KB instead of 191 KB (both a third or less of the JSON). On a
// querier CPU is what queries wait for; a few more KB on the wire cost less.
import { deflateSync, gzipSync } from "node:zlib";
import type { Compressor } from "../../shared/api/query-api.ts";

export const fastCompressor: Compressor = (body, encoding) =>
  encoding === "gzip" ? gzipSync(body, { level: 1 }) : deflateSync(body, { level: 1 });
