// shared/encoding/bcrypt.ts against Go's golang.org/x/crypto/bcrypt (what exporter-toolkit, and so
// Thanos' --http.config basic_auth_users, checks passwords with; test/lib/go/bcrypt.go): hashes Go
// makes are accepted for their password and refused for others, and recomputing Go's hash from its salt
// gives Go's exact string; passwords past 72 bytes, empty and non-ASCII ones, costs 4 to 10, and the
// $2y$ hash exporter-toolkit itself carries. Needs `go` (built once, cached).
import { test } from "uvu";
import * as assert from "uvu/assert";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { bcryptHash, bcryptVerify, parseBcrypt } from "../../shared/encoding/bcrypt.ts";
import { buildGo } from "../lib/gobuild.ts";

const GO_MOD = `module thanots/bcrypt

go 1.25.0

require golang.org/x/crypto v0.47.0
`;

async function goHashes(cases: { password: string; cost: number }[]): Promise<string[]> {
  const bin = await buildGo("bcrypt", GO_MOD, readFileSync(fileURLToPath(new URL("../lib/go/bcrypt.go", import.meta.url)), "utf8"));
  return await new Promise((resolve, reject) => {
    const p = spawn(bin);
    const out: Buffer[] = [], err: Buffer[] = [];
    p.stdout.on("data", (d: Buffer) => out.push(d));
    p.stderr.on("data", (d: Buffer) => err.push(d));
    p.on("error", reject);
    p.on("close", (code) => (code === 0 ? resolve(JSON.parse(Buffer.concat(out).toString())) : reject(new Error(Buffer.concat(err).toString()))));
    p.stdin.end(JSON.stringify(cases));
  });
}

const CASES = [
  { password: "", cost: 4 },
  { password: "a", cost: 4 },
  { password: "correct horse battery staple", cost: 5 },
  { password: "pässwörd ✓ 日本", cost: 4 },
  { password: "x".repeat(71), cost: 4 },
  { password: "y".repeat(72), cost: 4 },
  { password: "z".repeat(100), cost: 4 },
  { password: "s3cret!", cost: 10 },
];

test("Go's hashes verify for their password and not for others; our hash from Go's salt is Go's string", async () => {
  const hashes = await goHashes(CASES);
  CASES.forEach((c, i) => {
    const h = hashes[i]!;
    assert.ok(bcryptVerify(c.password, h), `${JSON.stringify(c.password)} against ${h}`);
    const wrong = c.password.length >= 72 ? "!" + c.password.slice(1) : c.password + "!";
    assert.not.ok(bcryptVerify(wrong, h), `wrong password accepted for ${h}`);
    const p = parseBcrypt(h);
    assert.is(bcryptHash(c.password.slice(0, 72), p.cost, p.salt, p.minor), h);
  });
  // Past 72 bytes nothing counts (bcrypt's rule): a different 73rd byte still matches.
  assert.ok(bcryptVerify("z".repeat(72) + "different tail", hashes[6]!));
  assert.not.ok(bcryptVerify("y".repeat(71), hashes[5]!));
});

test("exporter-toolkit's own $2y$ hash of \"fakepassword\", and malformed hashes refuse everything", () => {
  const h = "$2y$10$QOauhQNbBCuQDKes6eFzPeMqBSjb7Mr5DUmpZ/VcEd00UAV/LDeSi";
  assert.ok(bcryptVerify("fakepassword", h));
  assert.not.ok(bcryptVerify("fakepasswore", h));
  for (const bad of ["", "plaintext", "$2a$03$" + "A".repeat(53), "$2a$10$" + "A".repeat(52), "$3a$10$" + "A".repeat(53), "$2a$10$" + "*".repeat(53)]) {
    assert.not.ok(bcryptVerify("", bad), bad);
  }
});

test.run();
