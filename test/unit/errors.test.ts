// The one error table (shared/encoding/errors.ts): what every server and API answers for each of our
// codes, pinned here with where each figure comes from.
//   HTTP + errorType: Prometheus 2.42 web/api/v1/api.go (returnAPIError, respondError: bad_data 400,
//   execution 422, canceled and timeout 503, internal 500, not_found 404) and Thanos v0.41
//   pkg/api/api.go RespondError (the same numbers) with pkg/api/query/v1.go (a query whose store
//   fails, or any storage error, is errorExec: 422 execution). unauthorized 401 is ours, and so is
//   overloaded (a full admission queue), answered as Prometheus answers errorUnavailable: 503.
//   gRPC: doc/statuscodes.md numbers; Thanos' stores answer InvalidArgument for bad requests,
//   ResourceExhausted for limits, Unknown for the source behind a sidecar failing.
import { test } from "uvu";
import * as assert from "uvu/assert";
import {
  CodedError, codeFromDependencyHttp, codeFromGrpcStatus, ERROR_TABLE, type ErrorCode, errorStatus,
} from "../../shared/encoding/errors.ts";
import { codeFromConnectName, connectCodeName, rpcError } from "../../shared/rpc/errors.ts";

const PINNED: [ErrorCode, number, number, string][] = [
  // code                 gRPC  HTTP  errorType
  ["bad_data", 3, 400, "bad_data"],
  ["execution", 2, 422, "execution"],
  ["resource_exhausted", 8, 422, "execution"],
  ["corrupt", 15, 422, "execution"],
  ["unavailable", 14, 422, "execution"],
  ["overloaded", 14, 503, "unavailable"],
  ["timeout", 4, 503, "timeout"],
  ["canceled", 1, 503, "canceled"],
  ["not_found", 5, 404, "not_found"],
  ["unauthenticated", 16, 401, "unauthorized"],
  ["internal", 13, 500, "internal"],
];

test("the table: every code, its gRPC status, HTTP status and errorType", () => {
  assert.equal(Object.keys(ERROR_TABLE).sort(), PINNED.map((p) => p[0]).sort(), "every code is in the table");
  for (const [code, grpc, http, errorType] of PINNED) {
    assert.equal(ERROR_TABLE[code], { grpc, http, errorType }, code);
    assert.equal(errorStatus(new CodedError(code, "x")), { grpc, http, errorType }, code);
  }
  // Anything without one of our codes is internal.
  assert.equal(errorStatus(new Error("boom")), ERROR_TABLE.internal);
  assert.equal(errorStatus({ code: "ENOENT" }), ERROR_TABLE.internal);
});

test("gRPC statuses from peers read back as our codes", () => {
  for (const [code, grpc] of PINNED) {
    // execution and internal share no status with another code but read back as internal: a peer's
    // Unknown (a Thanos sidecar's failing Prometheus) is not a query error of ours. An overloaded
    // peer (Unavailable) is, to its caller, a store that is unavailable now.
    const back = code === "execution" ? "internal" : code === "overloaded" ? "unavailable" : code;
    assert.is(codeFromGrpcStatus(grpc), back, code);
  }
  assert.is(codeFromGrpcStatus(10), "unavailable", "Aborted: a Thanos store gateway that cannot read its blocks");
  assert.is(codeFromGrpcStatus(7), "unauthenticated", "PermissionDenied");
  for (const s of [6, 9, 11]) assert.is(codeFromGrpcStatus(s), "bad_data", `status ${s}`);
  for (const s of [2, 12, 13, 99]) assert.is(codeFromGrpcStatus(s), "internal", `status ${s}`);
  const e = rpcError(14, "connection refused", "10.0.0.1:10901", "thanos.Store/Series");
  assert.is(e.code, "unavailable");
  assert.is(e.message, "thanos.Store/Series on 10.0.0.1:10901: connection refused");
});

test("Connect's code names are the gRPC names in snake_case, both ways", () => {
  const names: [number, string][] = [
    [1, "canceled"], [2, "unknown"], [3, "invalid_argument"], [4, "deadline_exceeded"], [5, "not_found"],
    [6, "already_exists"], [7, "permission_denied"], [8, "resource_exhausted"], [9, "failed_precondition"],
    [10, "aborted"], [11, "out_of_range"], [12, "unimplemented"], [13, "internal"], [14, "unavailable"],
    [15, "data_loss"], [16, "unauthenticated"],
  ];
  for (const [n, name] of names) {
    assert.is(connectCodeName(n), name);
    assert.is(codeFromConnectName(name), codeFromGrpcStatus(n), name);
  }
  assert.is(codeFromConnectName("no_such_code"), "internal");
});

test("HTTP answers of a dependency (Prometheus, remote read) as our codes", () => {
  assert.is(codeFromDependencyHttp(400), "bad_data");
  assert.is(codeFromDependencyHttp(422, "bad_data"), "bad_data");
  assert.is(codeFromDependencyHttp(422, "execution"), "execution");
  assert.is(codeFromDependencyHttp(404), "execution");
  assert.is(codeFromDependencyHttp(429), "unavailable");
  // Prometheus' own timeout/cancel (503) is its failure, not our caller's deadline or cancel.
  assert.is(codeFromDependencyHttp(503, "timeout"), "unavailable");
  assert.is(codeFromDependencyHttp(500, "internal"), "unavailable");
});

test.run();
