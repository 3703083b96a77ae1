// Real certificates for TLS tests, made with the openssl CLI in a temp dir: a CA, and server or client
// certificates it signs (EC P-256, valid 2 days, SANs for localhost and 127.0.0.1 on servers).
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { requireBinary } from "./proc.ts";

export interface Ca { name: string; cert: string; key: string }
export interface Cert { cert: string; key: string }

function openssl(dir: string, args: string[]): void {
  execFileSync(requireBinary("openssl"), args, { cwd: dir, stdio: ["ignore", "ignore", "pipe"] });
}

export function makeCa(dir: string, name: string): Ca {
  const cert = join(dir, `${name}.crt`), key = join(dir, `${name}.key`);
  openssl(dir, ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", `/CN=${name}`]);
  return { name, cert, key };
}

/** A certificate signed by `ca`, written to <dir>/<name>.crt/.key (overwriting: rotation). */
export function makeCert(dir: string, ca: Ca, name: string, o: { cn?: string; server?: boolean } = {}): Cert {
  const cert = join(dir, `${name}.crt`), key = join(dir, `${name}.key`), csr = join(dir, `${name}.csr`), ext = join(dir, `${name}.ext`);
  const tmpCert = `${cert}.tmp`, tmpKey = `${key}.tmp`;
  openssl(dir, ["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", tmpKey, "-out", csr, "-subj", `/CN=${o.cn ?? name}`]);
  writeFileSync(ext, o.server ? "subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n" : "extendedKeyUsage=clientAuth\n");
  openssl(dir, ["x509", "-req", "-in", csr, "-CA", ca.cert, "-CAkey", ca.key, "-CAcreateserial", "-out", tmpCert, "-days", "2", "-extfile", ext]);
  // Key first, then the certificate, each by rename: a reader sees an old or a new pair at worst mixed
  // for a moment (which the reload code must survive), never a half-written file.
  execFileSync("mv", [tmpKey, key]);
  execFileSync("mv", [tmpCert, cert]);
  return { cert, key };
}
