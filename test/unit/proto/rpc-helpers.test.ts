// Small pure pieces of the RPC layer: token comparison, client errors naming the peer (the status table
// itself: test/unit/errors.test.ts), ms <-> int64 conversion with Go's MinInt64/MaxInt64 bounds.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { bearerMatches, constantTimeEqual } from "../../../shared/rpc/auth.ts";
import { callError } from "../../../shared/rpc/client.ts";
import { Code, ConnectError } from "@connectrpc/connect";
import { MAX_INT64, MIN_INT64, msFromProto, msToProto } from "../../../shared/rpc/time.ts";

test("constant-time token comparison and bearer parsing", () => {
  assert.ok(constantTimeEqual("abc", "abc"));
  assert.not.ok(constantTimeEqual("abc", "abd"));
  assert.not.ok(constantTimeEqual("abc", "abcd"));
  assert.not.ok(constantTimeEqual("", "a"));
  assert.ok(constantTimeEqual("é✓", "é✓"));
  assert.ok(bearerMatches("Bearer tok", "tok"));
  assert.ok(bearerMatches("bearer   tok ", "tok"));
  assert.not.ok(bearerMatches("Basic tok", "tok"));
  assert.not.ok(bearerMatches("Bearer tok2", "tok"));
  assert.not.ok(bearerMatches(null, "tok"));
  assert.not.ok(bearerMatches("Bearer ", "tok"));
});

test("callError names peer and method and keeps the status meaning", () => {
  const e = callError(new ConnectError("store gateway overloaded", Code.ResourceExhausted), "http://sg:10902", "thanos.Store/Series");
  assert.is(e.code, "resource_exhausted");
  assert.is(e.message, "thanos.Store/Series on http://sg:10902: store gateway overloaded");
  assert.is(callError(new Error("socket hang up"), "p", "m").code, "internal");
});

test("ms timestamps to int64 and back; Go's unbounded markers", () => {
  assert.is(msToProto(1_700_000_000_123), 1_700_000_000_123n);
  assert.is(msToProto(-5.9), -5n);
  assert.is(msToProto(NaN), 0n);
  assert.is(msToProto(Infinity), MAX_INT64);
  assert.is(msToProto(-Infinity), MIN_INT64);
  assert.is(MAX_INT64, 9223372036854775807n);
  // MaxInt64 as a double is 2^63, outside int64: clamped rather than wrapped
  assert.is(msToProto(msFromProto(MAX_INT64)), MAX_INT64);
  assert.is(msToProto(msFromProto(MIN_INT64)), MIN_INT64);
  assert.is(msFromProto(-1_000n), -1000);
});

test.run();
