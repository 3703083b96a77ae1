// The StoreAPI routes every server shares: the services registered on a Connect router, and what every
// call goes through, outermost first: observation (ServeOptions.observe: metrics, logs; it sees every
// call, refused ones included, with the status the client gets), bearer-token auth (unauthenticated
// calls never reach an implementation), CodedError -> status mapping (the table of
// shared/encoding/errors.ts). The Series fast paths (fastseries.ts here, agent/grpc/fastseries.ts) run
// the same three steps through callGuard() rather than a copy of them.
import { Code, ConnectError, type ConnectRouter, type Interceptor } from "@connectrpc/connect";
import { Store } from "../gen/thanos/storepb/rpc_pb.ts";
import { Info } from "../gen/thanos/infopb/rpc_pb.ts";
import { Rules } from "../gen/thanos/rulespb/rpc_pb.ts";
import { errorMessage } from "../encoding/errors.ts";
import { grpcStatusOf } from "./errors.ts";
import { bearerMatches } from "./auth.ts";
import type { ServeOptions, StoreApiServices } from "./store.ts";
import { batchSeries, decodeCarriedAll, isJsonCall } from "./series.ts";

export const DEFAULT_READ_MAX_BYTES = 16 << 20;

/** Add the given services to a router (absent services stay unregistered: Unimplemented). */
export function registerStoreApi(router: ConnectRouter, services: StoreApiServices): void {
  if (services.store) {
    const s = services.store;
    router.service(Store, {
      // Batching is done here for every implementation: they always yield single series. A JSON call gets
      // pre-encoded series (carried as unknown fields, see decodeCarried) decoded, or they would be lost.
      series: (req, ctx) => {
        const out = s.series(req, ctx);
        return batchSeries(isJsonCall(ctx.requestHeader) ? decodeCarriedAll(out) : out, Number(req.responseBatchSize));
      },
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

/** The per-call steps of a server, for the interceptors and the fast paths alike. */
export interface CallGuard {
  /** Throws a ConnectError (Unauthenticated) unless the Authorization header carries the token. */
  authorize(header: string | null | undefined): void;
  /** Report a finished call: `err` undefined for OK, else the error as the client gets it. */
  done(service: string, method: string, err: ConnectError | undefined): void;
}

export function callGuard(opts: ServeOptions): CallGuard {
  const token = opts.token !== undefined && opts.token !== "" ? opts.token : undefined;
  const observe = opts.observe;
  return {
    authorize(header) {
      if (token !== undefined && !bearerMatches(header, token)) {
        throw new ConnectError("missing or wrong bearer token", Code.Unauthenticated);
      }
    },
    done(service, method, err) {
      observe?.({ service, method, status: err === undefined ? 0 : err.code, message: err?.rawMessage });
    },
  };
}

/** Server interceptors, outermost first: observation, auth, CodedError mapping. */
export function serverInterceptors(opts: ServeOptions): Interceptor[] {
  const guard = callGuard(opts);
  const out: Interceptor[] = [];
  if (opts.observe) out.push(observeInterceptor(guard));
  if (opts.token !== undefined && opts.token !== "") {
    out.push((next) => async (req) => {
      guard.authorize(req.header.get("authorization"));
      return await next(req);
    });
  }
  out.push(errorInterceptor);
  return out;
}

function observeInterceptor(guard: CallGuard): Interceptor {
  return (next) => async (req) => {
    const service = req.service.typeName, method = req.method.name;
    let res;
    try {
      res = await next(req);
    } catch (e) {
      guard.done(service, method, toConnectError(e));
      throw e;
    }
    if (!res.stream) { guard.done(service, method, undefined); return res; }
    const inner = res.message;
    return {
      ...res,
      message: (async function* () {
        try {
          yield* inner;
        } catch (e) {
          guard.done(service, method, toConnectError(e));
          throw e;
        }
        guard.done(service, method, undefined);
      })(),
    };
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

/** Any thrown value as the ConnectError a client gets (status from the one table). */
export function toConnectError(e: unknown): ConnectError {
  if (e instanceof ConnectError) return e;
  return new ConnectError(errorMessage(e), grpcStatusOf(e) as Code, undefined, undefined, e);
}
