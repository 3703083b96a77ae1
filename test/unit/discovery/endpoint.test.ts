// shared/discovery: every address form Thanos accepts for --endpoint (and the ruler's --query /
// --alertmanagers.url), DNS resolution with Thanos' rules over a fake resolver, file-SD parsing, and
// the endpoint set (strict, groups, re-resolution, file targets) with its reconciler.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { errorCode, errorMessage, CodedError } from "../../../shared/encoding/errors.ts";
import { ALERTMANAGER_PORT, parseEndpoint, parseHttpTarget, staticTarget, endpointTarget, splitHostPort } from "../../../shared/discovery/endpoint.ts";
import { DnsProvider, resolveLookup, type Resolver, type SrvRecord } from "../../../shared/discovery/dns.ts";
import { checkFileSdPattern, parseFileSd, targetsOf } from "../../../shared/discovery/filesd.ts";
import { DiscoveredStores, EndpointSet, GroupEndpoint } from "../../../shared/discovery/endpointset.ts";
import { create } from "@bufbuild/protobuf";
import { RuleGroupSchema, RulesResponseSchema } from "../../../shared/gen/thanos/rulespb/rpc_pb.ts";
import type { StoreEndpoint } from "../../../shared/query/store.ts";

function throwsBad(f: () => unknown, re: RegExp): void {
  try {
    f();
  } catch (e) {
    assert.is(errorCode(e), "bad_data", errorMessage(e));
    assert.match(errorMessage(e), re);
    return;
  }
  assert.unreachable(`expected an error matching ${re}`);
}

test("bare host:port is gRPC, as in Thanos; IPv6 in brackets", () => {
  const s = parseEndpoint("thanos-store:10901");
  assert.equal({ t: s.transport, a: s.address, l: s.lookup }, { t: "grpc", a: "thanos-store:10901", l: undefined });
  assert.equal(staticTarget(s), { name: "thanos-store:10901", transport: "grpc", target: "thanos-store:10901" });
  assert.equal(parseEndpoint("[::1]:10901").address, "[::1]:10901");
  assert.equal(splitHostPort("[::1]:10901"), { host: "::1", port: "10901" });
  assert.is(splitHostPort("::1"), null);
});

test("URL forms: grpc:// keeps its name, http(s):// is Connect with an optional path", () => {
  assert.equal(staticTarget(parseEndpoint("grpc://127.0.0.1:10901")), { name: "grpc://127.0.0.1:10901", transport: "grpc", target: "127.0.0.1:10901" });
  const h = parseEndpoint("https://sidecar.example:10902/thanos/");
  assert.equal({ s: h.scheme, p: h.path, a: h.address }, { s: "https", p: "/thanos", a: "sidecar.example:10902" });
  assert.equal(staticTarget(h), { name: "https://sidecar.example:10902/thanos", transport: "http", target: "https://sidecar.example:10902/thanos" });
  assert.is(parseEndpoint("http://worker.example").address, "worker.example");
});

test("DNS forms: dns+ needs a port, SRV forms take it from the records unless given", () => {
  assert.equal(parseEndpoint("dns+stores.thanos.svc:10901").lookup, { qtype: "dns", name: "stores.thanos.svc", port: 10901 });
  assert.equal(parseEndpoint("dnssrv+_grpc._tcp.thanos-store.monitoring.svc").lookup, { qtype: "dnssrv", name: "_grpc._tcp.thanos-store.monitoring.svc" });
  assert.equal(parseEndpoint("dnssrvnoa+_grpc._tcp.store:19090").lookup, { qtype: "dnssrvnoa", name: "_grpc._tcp.store", port: 19090 });
  const u = parseEndpoint("dns+http://sidecars:10902/prefix");
  assert.equal({ t: u.transport, s: u.scheme, p: u.path, l: u.lookup }, { t: "http", s: "http", p: "/prefix", l: { qtype: "dns", name: "sidecars", port: 10902 } });
  assert.equal(endpointTarget(u, "10.0.0.7:10902"), { name: "http://10.0.0.7:10902/prefix", transport: "http", target: "http://10.0.0.7:10902/prefix" });
  assert.equal(endpointTarget(parseEndpoint("dns+x:1"), "[fd00::1]:1"), { name: "[fd00::1]:1", transport: "grpc", target: "[fd00::1]:1" });
  assert.equal(parseEndpoint("DNSSRV+_grpc._tcp.x").lookup?.qtype, "dnssrv");
});

test("bad endpoints are errors naming the flag and the value", () => {
  throwsBad(() => parseEndpoint("localhost"), /--endpoint: "localhost": not host:port/);
  throwsBad(() => parseEndpoint("dns+stores.svc"), /dns\+ lookup needs host:port/);
  throwsBad(() => parseEndpoint("host:99999", "endpoint-strict"), /--endpoint-strict: .*port "99999"/);
  throwsBad(() => parseEndpoint("ftp://x:1"), /scheme "ftp"/);
  throwsBad(() => parseEndpoint("grpc://x:1/path"), /no path/);
  throwsBad(() => parseEndpoint(""), /empty/);
  throwsBad(() => parseEndpoint("dnssrv+"), /empty SRV name/);
  throwsBad(() => parseEndpoint("http://u:p@x:1"), /credentials/);
});

test("ruler targets: Alertmanager URLs need a scheme, dns+ defaults the port to 9093, credentials are basic auth", () => {
  const am = { flag: "alertmanagers.url", defaultPort: ALERTMANAGER_PORT, requireScheme: true };
  const a = parseHttpTarget("dns+http://alertmanager.monitoring/api-prefix", am);
  assert.equal({ l: a.lookup, p: a.path, s: a.scheme }, { l: { qtype: "dns", name: "alertmanager.monitoring", port: 9093 }, p: "/api-prefix", s: "http" });
  assert.is(a.urlFor("10.1.1.1:9093"), "http://10.1.1.1:9093/api-prefix");
  const s = parseHttpTarget("dnssrv+https://_web._tcp.am.svc", am);
  assert.equal(s.lookup, { qtype: "dnssrv", name: "_web._tcp.am.svc" });
  assert.is(s.scheme, "https");
  const c = parseHttpTarget("http://user:s%40cret@am:9093", am);
  assert.equal({ h: c.host, b: c.basicAuth }, { h: "am:9093", b: { username: "user", password: "s@cret" } });
  throwsBad(() => parseHttpTarget("am:9093", am), /--alertmanagers.url: .*no scheme/);
  throwsBad(() => parseHttpTarget("dns+ftp://am", am), /scheme "ftp"/);
});

test("ruler targets: --query assumes http and accepts the DNS prefix before the host or the scheme", () => {
  const q = { flag: "query" };
  assert.is(parseHttpTarget("querier:9090", q).urlFor("querier:9090"), "http://querier:9090");
  assert.equal(parseHttpTarget("dns+querier:9090", q).lookup, { qtype: "dns", name: "querier", port: 9090 });
  assert.equal(parseHttpTarget("http://dnssrv+_http._tcp.querier/thanos", q).lookup, { qtype: "dnssrv", name: "_http._tcp.querier" });
  assert.is(parseHttpTarget("dns+http://querier:9090/prefix", q).urlFor("1.2.3.4:9090"), "http://1.2.3.4:9090/prefix");
  throwsBad(() => parseHttpTarget("dns+querier", q), /needs host:port/);
});

/** A resolver answering from tables; counts calls; names in `failing` throw. */
class FakeResolver implements Resolver {
  a = new Map<string, string[]>();
  srv = new Map<string, SrvRecord[]>();
  failing = new Set<string>();
  calls = 0;
  async lookupIP(host: string): Promise<string[]> {
    this.calls++;
    if (this.failing.has(host)) throw new Error("SERVFAIL");
    return this.a.get(host) ?? [];
  }
  async lookupSRV(name: string): Promise<SrvRecord[]> {
    this.calls++;
    if (this.failing.has(name)) throw new Error("SERVFAIL");
    return this.srv.get(name) ?? [];
  }
}

test("resolveLookup: A with the given port, SRV then A, SRV without A keeps targets (dot dropped), port override", async () => {
  const r = new FakeResolver();
  r.a.set("stores", ["10.0.0.1", "fd00::2"]);
  r.a.set("s1.ns.svc.", ["10.0.1.1"]);
  r.a.set("s2.ns.svc.", ["10.0.1.2"]);
  r.srv.set("_grpc._tcp.s", [{ target: "s1.ns.svc.", port: 10901 }, { target: "s2.ns.svc.", port: 10905 }]);
  assert.equal(await resolveLookup(r, { qtype: "dns", name: "stores", port: 10901 }), ["10.0.0.1:10901", "[fd00::2]:10901"]);
  assert.equal(await resolveLookup(r, { qtype: "dnssrv", name: "_grpc._tcp.s" }), ["10.0.1.1:10901", "10.0.1.2:10905"]);
  assert.equal(await resolveLookup(r, { qtype: "dnssrvnoa", name: "_grpc._tcp.s" }), ["s1.ns.svc:10901", "s2.ns.svc:10905"]);
  assert.equal(await resolveLookup(r, { qtype: "dnssrv", name: "_grpc._tcp.s", port: 1 }), ["10.0.1.1:1", "10.0.1.2:1"]);
  assert.equal(await resolveLookup(r, { qtype: "dns", name: "missing", port: 1 }), []);
});

test("DnsProvider: a failed lookup keeps its last answer; old names are flushed only after a clean round", async () => {
  const r = new FakeResolver();
  r.a.set("a", ["10.0.0.1"]);
  r.a.set("b", ["10.0.0.2"]);
  const p = new DnsProvider(r);
  await p.resolve(new Map([["dns+a:1", { qtype: "dns", name: "a", port: 1 }], ["dns+b:1", { qtype: "dns", name: "b", port: 1 }]]));
  r.a.set("a", ["10.0.0.9"]);
  r.failing.add("b");
  const round = await p.resolve(new Map([["dns+a:1", { qtype: "dns", name: "a", port: 1 }], ["dns+b:1", { qtype: "dns", name: "b", port: 1 }]]));
  assert.equal(round.errors.map((e) => e.key), ["dns+b:1"]);
  assert.equal(p.addressesFor("dns+a:1"), ["10.0.0.9:1"]);
  assert.equal(p.addressesFor("dns+b:1"), ["10.0.0.2:1"]);
  r.failing.clear();
  await p.resolve(new Map([["dns+a:1", { qtype: "dns", name: "a", port: 1 }]]));
  assert.equal(p.entries(), [["dns+a:1", ["10.0.0.9:1"]]]);
});

test("file SD: JSON and YAML target groups, Prometheus' strictness, path patterns", () => {
  const j = parseFileSd(`[{"targets": ["a:1", "dns+b:2"], "labels": {"team": "x"}}, {"targets": ["a:1"]}]`, "/etc/sd/stores.json");
  assert.equal(j, [{ targets: ["a:1", "dns+b:2"], labels: { team: "x" } }, { targets: ["a:1"], labels: {} }]);
  assert.equal(targetsOf(j), ["a:1", "dns+b:2"]);
  assert.equal(parseFileSd("- targets: ['c:3']\n", "x.YML"), [{ targets: ["c:3"], labels: {} }]);
  assert.equal(parseFileSd("", "empty.yaml"), []);
  throwsBad(() => parseFileSd(`[{"targets": ["a:1"], "extra": 1}]`, "s.json"), /file SD s.json: group 0: unknown field "extra"/);
  throwsBad(() => parseFileSd("- null\n", "s.yml"), /nil target group/);
  throwsBad(() => parseFileSd("- targets: a\n", "s.yml"), /targets is not a list/);
  throwsBad(() => parseFileSd(`[{"labels": {"0bad": "v"}}]`, "s.json"), /not a valid label name/);
  throwsBad(() => parseFileSd("{", "s.json"), /not JSON/);
  throwsBad(() => parseFileSd("a: [", "s.yaml"), /not YAML/);
  throwsBad(() => parseFileSd("[]", "s.txt"), /unhandled file extension/);
  checkFileSdPattern("store.sd-files", "/etc/sd/*.json");
  throwsBad(() => checkFileSdPattern("store.sd-files", "/etc/*/x.json"), /--store.sd-files: path name .* is not valid/);
  throwsBad(() => checkFileSdPattern("store.sd-files", "/etc/sd/stores.txt"), /not valid/);
});

test("EndpointSet: strict must be static (Thanos' error), DNS needs a resolver, groups are gRPC", () => {
  throwsBad(() => new EndpointSet({ strict: ["dns+a:1"] }, new FakeResolver()), /dynamically specified endpoint/);
  throwsBad(() => new EndpointSet({ endpoints: ["dnssrv+_x._tcp.y"] }, null), /DNS discovery is not available/);
  throwsBad(() => new EndpointSet({ groups: ["http://a:1"] }, null), /a group is a gRPC address/);
});

test("EndpointSet: static, strict, DNS and file-SD endpoints, duplicates merged (strict wins)", async () => {
  const r = new FakeResolver();
  r.srv.set("_grpc._tcp.stores", [{ target: "s1.", port: 10901 }]);
  r.a.set("s1.", ["10.0.0.1"]);
  r.a.set("q", ["10.0.0.5"]);
  const set = new EndpointSet({ endpoints: ["sidecar:10901", "dnssrv+_grpc._tcp.stores", "http://q:10902"], strict: ["10.0.0.1:10901"] }, r);
  assert.ok(set.dynamic);
  assert.equal(set.desired().map((d) => [d.name, d.strict]), [["sidecar:10901", false], ["http://q:10902", false], ["10.0.0.1:10901", true]]);
  await set.refresh();
  assert.equal(set.desired().map((d) => [d.name, d.strict]), [["sidecar:10901", false], ["10.0.0.1:10901", true], ["http://q:10902", false]]);
  assert.equal(set.setFileTargets(["file:1", "dns+q:7", "nope"]).length, 1);
  await set.refresh();
  assert.equal(set.desired().map((d) => d.name), ["sidecar:10901", "10.0.0.1:10901", "http://q:10902", "file:1", "10.0.0.5:7"]);
  assert.is(set.desired().find((d) => d.name === "10.0.0.5:7")?.source, "dns+q:7");
});

/** A store that answers Info with its name, or fails as unavailable when `down`. */
function fakeStore(name: string, state: { down: Set<string>; closed: string[] }): { endpoint: StoreEndpoint; close(): void } {
  const check = () => { if (state.down.has(name)) throw new CodedError("unavailable", `${name} down`); };
  return {
    endpoint: {
      name,
      info: async () => { check(); return { labelSets: [], minTime: 0, maxTime: 1, componentType: name, supportsWithoutReplicaLabels: false }; },
      series: (async function* () { check(); yield {} as never; }) as never,
      labelNames: async () => { check(); return { names: [name], warnings: [] }; },
      labelValues: async () => { check(); return { values: [], warnings: [] }; },
      rules: async function* () { check(); yield create(RulesResponseSchema, { result: { case: "group", value: create(RuleGroupSchema, { name }) } }); },
    },
    close: () => state.closed.push(name),
  };
}

test("DiscoveredStores: creates, keeps and closes endpoints as the set changes; fixed stores stay first", async () => {
  const r = new FakeResolver();
  r.a.set("pool", ["10.0.0.1", "10.0.0.2"]);
  const set = new EndpointSet({ endpoints: ["dns+pool:1", "static:2"] }, r);
  const state = { down: new Set<string>(), closed: [] as string[] };
  let applied: string[][] = [];
  const made: string[] = [];
  const fixed = fakeStore("local", state).endpoint;
  const ds = new DiscoveredStores(set, (t) => { made.push(t.name); return fakeStore(t.name, state); }, (eps) => applied.push(eps.map((e) => e.name)), [fixed]);
  assert.ok(ds.sync());
  await set.refresh();
  assert.ok(ds.sync());
  assert.not.ok(ds.sync());
  r.a.set("pool", ["10.0.0.2", "10.0.0.3"]);
  await set.refresh();
  assert.ok(ds.sync());
  assert.equal(applied, [["local", "static:2"], ["local", "10.0.0.1:1", "10.0.0.2:1", "static:2"], ["local", "10.0.0.2:1", "10.0.0.3:1", "static:2"]]);
  assert.equal(made, ["static:2", "10.0.0.1:1", "10.0.0.2:1", "10.0.0.3:1"]);
  assert.equal(state.closed, ["10.0.0.1:1"]);
  ds.close();
});

test("endpoint group: one store, round-robin over its members, an unavailable member retried on the next", async () => {
  const r = new FakeResolver();
  r.a.set("ha", ["10.0.0.1", "10.0.0.2", "10.0.0.3"]);
  const set = new EndpointSet({ groups: ["dns+ha:10901"] }, r);
  await set.refresh();
  const state = { down: new Set<string>(), closed: [] as string[] };
  let eps: StoreEndpoint[] = [];
  const ds = new DiscoveredStores(set, (t) => fakeStore(t.name, state), (e) => { eps = e; });
  ds.sync();
  assert.equal(eps.map((e) => e.name), ["dns+ha:10901"]);
  const g = eps[0] as GroupEndpoint;
  const who = async () => (await g.labelNames({} as never, new AbortController().signal)).names[0];
  assert.equal([await who(), await who(), await who(), await who()], ["10.0.0.1:10901", "10.0.0.2:10901", "10.0.0.3:10901", "10.0.0.1:10901"]);
  state.down.add("10.0.0.2:10901");
  assert.is(await who(), "10.0.0.3:10901"); // 10.0.0.2 was next, down: retried on 10.0.0.3
  let frames = 0;
  for await (const _ of g.series({} as never, new AbortController().signal)) frames++;
  assert.is(frames, 1);
  // Rules (a group of rulers) go to the members with the same retry: two down, the third answers.
  state.down = new Set(["10.0.0.1:10901", "10.0.0.2:10901"]);
  const groups: string[] = [];
  for await (const m of g.rules({} as never, new AbortController().signal)) if (m.result.case === "group") groups.push(m.result.value.name);
  assert.equal(groups, ["10.0.0.3:10901"]);
  state.down = new Set(["10.0.0.1:10901", "10.0.0.2:10901", "10.0.0.3:10901"]);
  try {
    await who();
    assert.unreachable();
  } catch (e) {
    assert.is(errorCode(e), "unavailable");
  }
  r.a.set("ha", []);
  await set.refresh();
  ds.sync();
  try {
    await who();
    assert.unreachable();
  } catch (e) {
    assert.match(errorMessage(e), /endpoint group dns\+ha:10901: no address resolved/);
  }
  assert.equal(state.closed.sort(), ["10.0.0.1:10901", "10.0.0.2:10901", "10.0.0.3:10901"]);
});

test.run();
