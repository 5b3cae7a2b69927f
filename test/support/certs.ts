/**
 * Throwaway PKI for TLS tests, generated with openssl at test time into a temp
 * folder (no private key is ever committed): a CA, a server certificate for
 * 127.0.0.1/localhost and a client certificate, all signed by the CA.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Paths of the generated files. */
export interface TestPki {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  clientCert: string;
  clientKey: string;
}

const openssl = (args: string[]) => execFileSync("openssl", args, { stdio: "pipe" });
const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

function leaf(dir: string, name: string, cn: string, ext: string): { cert: string; key: string } {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  const extFile = join(dir, `${name}.ext`);
  writeFileSync(extFile, ext);
  openssl(["req", ...EC, "-keyout", key, "-out", csr, "-subj", `/CN=${cn}`]);
  openssl(["x509", "-req", "-in", csr, "-CA", join(dir, "ca.crt"), "-CAkey", join(dir, "ca.key"), "-CAcreateserial", "-out", cert, "-days", "1", "-extfile", extFile]);
  return { cert, key };
}

/** Generates a CA, a server and a client certificate. */
export function createTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), "natsgate-pki-"));
  const ca = join(dir, "ca.crt");
  openssl(["req", "-x509", ...EC, "-keyout", join(dir, "ca.key"), "-out", ca, "-subj", "/CN=natsgate test CA", "-days", "1"]);
  const server = leaf(dir, "server", "localhost", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n");
  const client = leaf(dir, "client", "natsgate-client", "extendedKeyUsage=clientAuth\n");
  return { dir, ca, serverCert: server.cert, serverKey: server.key, clientCert: client.cert, clientKey: client.key };
}
