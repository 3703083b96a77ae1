// Unary StoreAPI calls over gRPC on our HTTP/2 server (Info, LabelNames, LabelValues), served without Connect's
// generic pipeline: read the one enveloped request, run the same per-call steps as every other call
// (callGuard: auth, observation; toConnectError: the status table), answer with one enveloped message and
// the status in the trailers.
//
// Why: these calls are tiny (a querier asks Info of every store every few seconds, and Grafana's label
// and variable lookups are LabelNames/LabelValues), so their cost is the server stack's. Through
// connect-node each call passed a chain of async-iterator stages, AbortControllers and header
// conversions: a Go client measured 0.49-0.56 ms per Info call against Thanos' store at 0.26 ms.
//
// Only uncompressed binary gRPC requests take it (grpc-encoding absent or identity); anything else is
// left to Connect's handler. Answers are never compressed (gRPC lets a server answer identity to any client).
// grpc-timeout is honoured as connect-node does: the call's signal aborts with DeadlineExceeded.

import { create, type DescMessage, isMessage, type MessageInitShape, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { parseTimeout } from "@connectrpc/connect/protocol-grpc";
import { InfoRequestSchema, InfoResponseSchema } from "../../shared/gen/thanos/infopb/rpc_pb.ts";
import {
  LabelNamesRequestSchema, LabelNamesResponseSchema, LabelValuesRequestSchema, LabelValuesResponseSchema,
} from "../../shared/gen/thanos/storepb/rpc_pb.ts";
import { type CallGuard, toConnectError } from "../../shared/rpc/routes.ts";
import type { CallContext, StoreApiServices } from "../../shared/rpc/store.ts";
import { frame, parseEnvelopedRequest, readRequestBody } from "../../shared/rpc/fastseries.ts";
import { endWithStatus, plainGrpc } from "./fastseries.ts";
import type { H2Request, H2Response } from "./h2server.ts";

export interface GrpcFastUnaryOptions {
  guard: CallGuard;
  readMaxBytes: number;
}

interface Route {
  service: string;
  method: string;
  req: DescMessage;
  res: DescMessage;
  call(req: unknown, ctx: CallContext): Promise<unknown>;
}

/** The unary routes `services` implement, by path. */
function routes(services: StoreApiServices): Map<string, Route> {
  const m = new Map<string, Route>();
  const info = services.info, store = services.store;
  if (info) {
    m.set("/thanos.info.Info/Info", { service: "thanos.info.Info", method: "Info", req: InfoRequestSchema, res: InfoResponseSchema,
      call: (r, ctx) => info.info(r as never, ctx) });
  }
  if (store) {
    m.set("/thanos.Store/LabelNames", { service: "thanos.Store", method: "LabelNames", req: LabelNamesRequestSchema, res: LabelNamesResponseSchema,
      call: (r, ctx) => store.labelNames(r as never, ctx) });
    m.set("/thanos.Store/LabelValues", { service: "thanos.Store", method: "LabelValues", req: LabelValuesRequestSchema, res: LabelValuesResponseSchema,
      call: (r, ctx) => store.labelValues(r as never, ctx) });
  }
  return m;
}

const MAX_TIMEOUT_MS = 2 ** 31 - 1; // setTimeout's limit; longer deadlines are kept as none

/** A request handler that takes fast-path unary calls: true when it took the request. */
export function grpcFastUnary(services: StoreApiServices, o: GrpcFastUnaryOptions): (req: H2Request, res: H2Response) => boolean {
  const table = routes(services);
  return (req, res) => {
    const route = table.get(req.path);
    if (route === undefined || !plainGrpc(req)) return false;
    void serve(route, o, req, res);
    return true;
  };
}

function enveloped(route: Route, answer: unknown): Uint8Array {
  const msg = isMessage(answer, route.res) ? answer : create(route.res, answer as MessageInitShape<DescMessage>);
  return frame(0, toBinary(route.res, msg));
}

async function serve(route: Route, o: GrpcFastUnaryOptions, req: H2Request, res: H2Response): Promise<void> {
  const abort = new AbortController();
  // A client cancelling at its deadline (its timer and ours fire together; which is first is chance) is
  // a deadline, as a Go server's context reports it; 50 ms of slack for the trip.
  let deadlineAt = Number.POSITIVE_INFINITY;
  const onClose = () => abort.abort(performance.now() >= deadlineAt - 50
    ? new ConnectError("the operation timed out", Code.DeadlineExceeded)
    : req.signal.reason ?? new ConnectError("the client went away", Code.Canceled));
  req.signal.addEventListener("abort", onClose, { once: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  let ended = false;
  const finish = (e: unknown, body?: Uint8Array) => {
    if (ended) return;
    ended = true;
    if (timer !== undefined) clearTimeout(timer);
    req.signal.removeEventListener("abort", onClose);
    const err = e === undefined ? undefined : toConnectError(e);
    o.guard.done(route.service, route.method, err);
    if (!res.finished) void endWithStatus(res, err, body);
  };
  try {
    const deadline = parseTimeout(req.headers["grpc-timeout"] ?? null, Number.POSITIVE_INFINITY);
    if (deadline.error) throw deadline.error;
    if (deadline.timeoutMs !== undefined && deadline.timeoutMs <= MAX_TIMEOUT_MS) {
      deadlineAt = performance.now() + deadline.timeoutMs;
      timer = setTimeout(() => {
        const e = new ConnectError("the operation timed out", Code.DeadlineExceeded);
        abort.abort(e);
        finish(e);
      }, deadline.timeoutMs);
    }
    o.guard.authorize(req.headers["authorization"]);
    const request = parseEnvelopedRequest(route.req, await readRequestBody(req.body, o.readMaxBytes), route.method);
    const answer = await route.call(request, { signal: abort.signal });
    finish(undefined, enveloped(route, answer));
  } catch (e) {
    finish(abort.signal.aborted ? abort.signal.reason : e);
  }
}
