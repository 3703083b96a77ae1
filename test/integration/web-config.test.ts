// --http.config (agent/web): exporter-toolkit's own test configs (from its Go module, v0.15.0, what
// Thanos v0.41.0 builds with) are accepted or refused as exporter-toolkit accepts or refuses them; and a
// served port, under Node in-process and under Bun in a child (the unix-socket pipe), with real
// certificates made by openssl: mTLS + basic auth let the right client in; no certificate, a certificate
// from another CA, and a wrong or missing password are refused and learn nothing; certificates and users
// are reloaded when their files change; configured headers are sent.
import { test } from "uvu";
import * as assert from "uvu/assert";
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import * as https from "node:https";
import { join } from "node:path";
import { errorMessage } from "../../shared/encoding/errors.ts";
import { bcryptHash } from "../../shared/encoding/bcrypt.ts";
import { loadWebConfig } from "../../agent/web/config.ts";
import { listenWeb } from "../../agent/web/listen.ts";
import { makeCa, makeCert } from "../lib/certs.ts";
import { requireBinary, tempDir } from "../lib/proc.ts";

const dir = tempDir("web-config-").path;

function toolkitTestdata(): string {
  const out = execFileSync(requireBinary("go"), ["mod", "download", "-json", "github.com/prometheus/exporter-toolkit@v0.15.0"], { encoding: "utf8", env: { ...process.env, GOFLAGS: "-mod=mod" } });
  return join(JSON.parse(out).Dir as string, "web", "testdata");
}

// exporter-toolkit refuses this one only because Go's HTTP/2 needs a particular cipher under TLS 1.2;
// our TLS port offers HTTP/1.1 only, so the restriction does not apply.
const KNOWN_DIFFERENT = new Set(["web_config_noAuth_noHTTP2Cipher.bad.yml"]);

test("exporter-toolkit's test configs: those its TestYAMLFiles expects to fail are refused, the good ones load", () => {
  const td = toolkitTestdata();
  // The oracle: exporter-toolkit's own table of config files and whether loading them fails.
  const src = readFileSync(join(td, "..", "tls_config_test.go"), "utf8");
  const table = src.slice(src.indexOf("func TestYAMLFiles"), src.indexOf("func TestServerBehaviour"));
  const expectFail = new Set<string>(), expectOk = new Set<string>();
  for (const m of table.matchAll(/YAMLConfigPath:\s*"testdata\/([^"]+)",\s*ExpectedError:\s*([^,\n]+),/g)) {
    (m[2]!.trim() === "nil" ? expectOk : expectFail).add(m[1]!);
  }
  for (const f of readdirSync(td)) if (/\.good\.ya?ml$/.test(f)) expectOk.add(f);
  assert.ok(expectFail.size >= 15, `only ${expectFail.size} failing cases found in exporter-toolkit's test table`);
  for (const f of [...expectFail, ...expectOk].sort()) {
    if (KNOWN_DIFFERENT.has(f)) continue;
    let err: string | null = null;
    try {
      loadWebConfig(join(td, f));
    } catch (e) {
      err = errorMessage(e);
    }
    if (expectFail.has(f)) {
      assert.ok(err !== null, `${f} should be refused`);
      assert.match(err!, /^--http.config /);
    } else {
      assert.is(err, null, `${f} should load: ${err}`);
    }
  }
});

// ---- a served port ----

const ca = makeCa(dir, "ca");
const other = makeCa(dir, "otherca");
makeCert(dir, ca, "server", { server: true, cn: "server-one" });
const client = makeCert(dir, ca, "client");
const intruder = makeCert(dir, other, "intruder");
const cfgPath = join(dir, "web.yml");
const HASH = bcryptHash("s3cret", 5, new Uint8Array(16).fill(7));
function writeConfig(users: Record<string, string>): void {
  writeFileSync(cfgPath, [
    "tls_server_config:",
    "  cert_file: server.crt", // relative to the config file
    "  key_file: server.key",
    "  client_auth_type: RequireAndVerifyClientCert",
    `  client_ca_file: ${ca.cert}`,
    "http_server_config:",
    "  headers:",
    "    X-Frame-Options: deny",
    "basic_auth_users:",
    ...Object.entries(users).map(([u, h]) => `  ${u}: ${h}`),
    "",
  ].join("\n"));
}
writeConfig({ alice: HASH });

interface Got { status?: number; body?: string; headers?: Record<string, unknown>; error?: string; serverCN?: string }

function get(port: number, o: { cert?: { cert: string; key: string }; user?: string; pass?: string }): Promise<Got> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = {};
    if (o.user !== undefined) headers.authorization = `Basic ${Buffer.from(`${o.user}:${o.pass}`).toString("base64")}`;
    const req = https.request({
      host: "127.0.0.1", port, path: "/api/v1/series", servername: "localhost", ca: readFileSync(ca.cert), headers, agent: false,
      ...(o.cert ? { cert: readFileSync(o.cert.cert), key: readFileSync(o.cert.key) } : {}),
    }, (res) => {
      let body = "";
      const serverCN = (res.socket as import("node:tls").TLSSocket).getPeerCertificate?.()?.subject?.CN;
      res.on("data", (d) => { body += d; });
      res.on("end", () => resolve({ status: res.statusCode, body, headers: res.headers, serverCN }));
    });
    req.on("error", (e: Error & { code?: string }) => resolve({ error: e.code ?? e.message }));
    req.end();
  });
}

async function scenario(port: number, label: string): Promise<void> {
  const ok = await get(port, { cert: client, user: "alice", pass: "s3cret" });
  assert.is(ok.status, 200, `${label}: ${JSON.stringify(ok)}`);
  assert.is(ok.body, "secret series for /api/v1/series\n");
  assert.is(ok.headers?.["x-frame-options"], "deny");
  assert.is(ok.serverCN, "server-one");
  for (const [what, o] of [
    ["no client certificate", { user: "alice", pass: "s3cret" }],
    ["a certificate from another CA", { cert: intruder, user: "alice", pass: "s3cret" }],
  ] as const) {
    const r = await get(port, o);
    assert.ok(r.error !== undefined && r.status === undefined, `${label}, ${what}: ${JSON.stringify(r)}`);
    assert.not.ok(JSON.stringify(r).includes("secret series"));
  }
  for (const [what, o] of [
    ["a wrong password", { cert: client, user: "alice", pass: "guess" }],
    ["an unknown user", { cert: client, user: "mallory", pass: "s3cret" }],
    ["no credentials", { cert: client }],
  ] as const) {
    const r = await get(port, o);
    assert.is(r.status, 401, `${label}, ${what}`);
    assert.is(r.body, "Unauthorized\n");
    assert.is(r.headers?.["www-authenticate"], "Basic");
  }
}

async function rotation(port: number, label: string): Promise<void> {
  // New server certificate: served within seconds of the files changing.
  makeCert(dir, ca, "server", { server: true, cn: "server-two" });
  let cn = "";
  for (let i = 0; i < 40 && cn !== "server-two"; i++) {
    await new Promise((r) => setTimeout(r, 150));
    cn = (await get(port, { cert: client, user: "alice", pass: "s3cret" })).serverCN ?? "";
  }
  assert.is(cn, "server-two", `${label}: rotated certificate not served`);
  // A new user in the config file: accepted without a restart.
  writeConfig({ alice: HASH, bob: bcryptHash("hunter2", 4, new Uint8Array(16).fill(9)) });
  let st = 0;
  for (let i = 0; i < 40 && st !== 200; i++) {
    await new Promise((r) => setTimeout(r, 150));
    st = (await get(port, { cert: client, user: "bob", pass: "hunter2" })).status ?? 0;
  }
  assert.is(st, 200, `${label}: new user not accepted`);
  makeCert(dir, ca, "server", { server: true, cn: "server-one" });
  writeConfig({ alice: HASH });
}

test("Node: mTLS + basic auth let only the right client in; certificates and users reload", async () => {
  const l = await listenWeb((r) => new Response(`secret series for ${new URL(r.url).pathname}\n`), "127.0.0.1", 0, cfgPath);
  try {
    assert.ok(l.tls);
    await scenario(l.port, "node");
    await rotation(l.port, "node");
  } finally {
    await l.close();
  }
});

test("Bun (the agents' runtime): the same through the unix-socket pipe", async () => {
  const bun = join(process.cwd(), "node_modules/.bin/bun");
  assert.ok(existsSync(bun));
  const child: ChildProcess = spawn(bun, ["test/lib/web-serve.ts", cfgPath], { stdio: ["ignore", "pipe", "pipe"] });
  let err = "";
  child.stderr!.on("data", (d) => { err += d; });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let out = "";
      child.stdout!.on("data", (d) => { out += d; const m = /PORT (\d+)/.exec(out); if (m) resolve(Number(m[1])); });
      child.on("exit", (c) => reject(new Error(`web-serve exited ${c}: ${err}`)));
      setTimeout(() => reject(new Error(`web-serve did not start: ${err}`)), 20_000).unref();
    });
    await scenario(port, "bun");
    await rotation(port, "bun");
  } finally {
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    child.kill("SIGTERM");
    const t = setTimeout(() => child.kill("SIGKILL"), 5000);
    await exited;
    clearTimeout(t);
  }
});

test.run();
