// Registering StoreAPI implementations on a Connect router, with the server interceptors both
// transports share: bearer-token auth and CodedError -> RPC status mapping.
import { Code, ConnectError, type ConnectRouter, type Interceptor } from "@connectrpc/connect";
import { Store } from "../gen/thanos/storepb/rpc_pb.ts";
import { Info } from "../gen/thanos/infopb/rpc_pb.ts";
import { Rules } from "../gen/thanos/rulespb/rpc_pb.ts";
import { errorCode, errorMessage } from "../encoding/errors.ts";
import { codeToGrpcStatus } from "./errors.ts";
import { bearerMatches } from "./auth.ts";
import type { ServeOptions, StoreApiServices } from "./store.ts";
import { batchSeries } from "./series.ts";

export const DEFAULT_READ_MAX_BYTES = 16 << 20;

/** Add the given services to a router (absent services stay unregistered: Unimplemented). */
export function registerStoreApi(router: ConnectRouter, services: StoreApiServices): void {
  if (services.store) {
    const s = services.store;
    router.service(Store, {
      // Batching is done here for every implementation: they always yield single series.
      series: (req, ctx) => batchSeries(s.series(req, ctx), Number(req.responseBatchSize)),
      labelNames: (req, ctx) => s.labelNames(req, ctx),
      labelValues: (req, ctx) => s.labelValues(req, ctx),
    });
  }
  if (services.info) {
    const s = services.info;
    router.service(Info, { info: (req, ctx) => s.info(req, ctx) });
  }
  if (services.rules) {
    const s = services.rules;
    router.service(Rules, { rules: (req, ctx) => s.rules(req, ctx) });
  }
}

/**
 * Server interceptors, outermost first: the caller's `extra` (metrics, logging: they see every call,
 * refused ones included, with mapped ConnectErrors), then auth (unauthenticated calls never reach an
 * implementation), then CodedError mapping.
 */
export function serverInterceptors(opts: ServeOptions, extra: Interceptor[] = []): Interceptor[] {
  const out: Interceptor[] = [...extra];
  if (opts.token !== undefined && opts.token !== "") out.push(authInterceptor(opts.token));
  out.push(errorInterceptor);
  return out;
}

function authInterceptor(token: string): Interceptor {
  return (next) => async (req) => {
    if (!bearerMatches(req.header.get("authorization"), token)) {
      throw new ConnectError("missing or wrong bearer token", Code.Unauthenticated);
    }
    return await next(req);
  };
}

/** CodedErrors from implementations (also mid-stream) become ConnectErrors with the mapped code. */
const errorInterceptor: Interceptor = (next) => async (req) => {
  let res;
  try {
    res = await next(req);
  } catch (e) {
    throw toConnectError(e);
  }
  if (!res.stream) return res;
  const inner = res.message;
  return {
    ...res,
    message: (async function* () {
      try {
        yield* inner;
      } catch (e) {
        throw toConnectError(e);
      }
    })(),
  };
};

export function toConnectError(e: unknown): ConnectError {
  if (e instanceof ConnectError) return e;
  const code = errorCode(e);
  if (code === undefined) return new ConnectError(errorMessage(e), Code.Internal, undefined, undefined, e);
  return new ConnectError(errorMessage(e), codeToGrpcStatus(code) as Code, undefined, undefined, e);
}
