// A remote StoreAPI (Connect or gRPC-Web over fetch) as a fan-out store. Works on every runtime,
// Workers included (the client passes redirect: "manual", see shared/rpc/client.ts).

import { create } from "@bufbuild/protobuf";
import { CodedError } from "../encoding/errors.ts";
import { InfoRequestSchema } from "../gen/thanos/infopb/rpc_pb.ts";
import type { SeriesRequest, SeriesResponse } from "../gen/thanos/storepb/rpc_pb.ts";
import { frameOf, type SeriesFrame } from "./wire.ts";
import { storeInfoFrom, type StoreEndpoint } from "./store.ts";
import { callError, createStoreApiClients, type ClientOptions, type InfoClient, type RulesClient, type StoreClient } from "../rpc/client.ts";
import type { RulesResponse } from "../gen/thanos/rulespb/rpc_pb.ts";
import { connectSeries } from "./connect-series.ts";

/** Series messages per response batch asked of remote stores (fewer envelopes for large answers). */
const BATCH = 256;

export interface RemoteStoreOptions extends ClientOptions {
  /** Name in warnings and /api/v1/stores; default the URL. */
  name?: string;
}

export function remoteStore(url: string, opts: RemoteStoreOptions = {}): StoreEndpoint {
  let base: URL;
  try {
    base = new URL(url);
  } catch {
    throw new CodedError("bad_data", `store endpoint ${JSON.stringify(url)} is not a URL (want e.g. http://host:10902)`);
  }
  if (base.protocol !== "http:" && base.protocol !== "https:") {
    throw new CodedError("bad_data", `store endpoint ${JSON.stringify(url)}: only http and https are served over Connect/gRPC-Web`);
  }
  const name = opts.name ?? url;
  const baseUrl = url.replace(/\/+$/, "");
  const c = createStoreApiClients(baseUrl, opts);
  const generic = storeFromClients(name, c);
  if (opts.protocol === "grpc-web") return generic;
  // Connect: Series through our own streaming call with the direct decoder (its errors name the store).
  return {
    ...generic,
    series: (req, signal) => connectSeries(baseUrl, withBatch(req), signal, { name, token: opts.token, fetch: opts.fetch, timeoutMs: opts.timeoutMs }),
  };
}

/** `req` with a response batch size (fewer envelopes for large answers) unless it asks for its own. */
export function withBatch(req: SeriesRequest): SeriesRequest {
  return req.responseBatchSize > 0n ? req : { ...req, responseBatchSize: BigInt(BATCH) };
}

/**
 * A store over generated Store + Info (+ Rules) clients of any transport (gRPC-Web here; gRPC over
 * HTTP/2 from agent/grpc/client.ts for Go Thanos peers). Errors name the store and the call.
 */
export function storeFromClients(name: string, c: { store: StoreClient; info: InfoClient; rules?: RulesClient }): StoreEndpoint {
  const rules = c.rules;
  return {
    name,
    info: async (signal) => {
      try {
        return storeInfoFrom(await c.info.info(create(InfoRequestSchema, {}), { signal }));
      } catch (e) {
        throw callError(e, name, "thanos.info.Info/Info");
      }
    },
    series: (req, signal) => (async function* (): AsyncGenerator<SeriesFrame> {
      try {
        for await (const m of c.store.series(withBatch(req), { signal }) as AsyncIterable<SeriesResponse>) yield frameOf(m);
      } catch (e) {
        throw callError(e, name, "thanos.Store/Series");
      }
    })(),
    labelNames: async (req, signal) => {
      try {
        const r = await c.store.labelNames(req, { signal });
        return { names: r.names, warnings: r.warnings };
      } catch (e) {
        throw callError(e, name, "thanos.Store/LabelNames");
      }
    },
    labelValues: async (req, signal) => {
      try {
        const r = await c.store.labelValues(req, { signal });
        return { values: r.values, warnings: r.warnings };
      } catch (e) {
        throw callError(e, name, "thanos.Store/LabelValues");
      }
    },
    ...(rules ? {
      rules: (req, signal) => (async function* (): AsyncGenerator<RulesResponse> {
        try {
          yield* rules.rules(req, { signal }) as AsyncIterable<RulesResponse>;
        } catch (e) {
          throw callError(e, name, "thanos.Rules/Rules");
        }
      })(),
    } satisfies Pick<StoreEndpoint, "rules"> : {}),
  };
}
