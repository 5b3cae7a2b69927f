/**
 * The production image without Docker (issue 13): the Dockerfile's stages are
 * performed as written (test/support/dockerfile.ts) — the build stage compiles,
 * the deps stage runs `npm ci --omit=dev` for real in a temporary folder, the
 * final stage copies what the Dockerfile copies — then the image's CMD runs
 * against a real nats-server with the image's ENV.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CLIENT_MODULES } from "../../src/http/console-openapi.js";
import { buildStages, listFiles, reuseInstalledModules, type Stage } from "../support/dockerfile.js";
import { NatsServer } from "../support/nats-server.js";
import { collector, natsConnect } from "../support/nats.js";
import { freePort, spawnGateway, type GatewayProcess } from "../support/process.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const TOKEN = "image-token-0123456789abcdef";
/** Dev tooling that must not reach the image. */
const DEV_ONLY = ["tsx", "typescript", "vitest", "playwright-core", "@sparticuz/chromium", "autocannon", "pino", "esbuild", "@opentelemetry/sdk-trace-base/node_modules"];

const megabytes = (dir: string) => Number(execFileSync("du", ["-sk", dir], { encoding: "utf8" }).split("\t")[0]) / 1024;

describe("production image (Dockerfile stages performed without Docker)", () => {
  let out: string;
  let image: Stage;
  let server: NatsServer;
  let gateway: GatewayProcess | undefined;
  const app = () => join(image.root, image.workdir);

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), "natsgate-image-"));
    // The build stage's full install is this repository's own (same lockfile, checked).
    const stages = buildStages(join(ROOT, "Dockerfile"), ROOT, out, { "npm ci --ignore-scripts --no-audit --no-fund": reuseInstalledModules(ROOT) });
    image = [...stages.values()].at(-1)!;
    server = await NatsServer.start();
  }, 180_000);

  afterAll(async () => {
    if (gateway && gateway.child.exitCode === null) gateway.kill();
    await server?.cleanup();
    if (out) rmSync(out, { recursive: true, force: true });
  });

  it("image - holds production dependencies and build output only, as a non-root user", () => {
    const files = listFiles(app());
    expect(files.filter((f) => !f.startsWith("node_modules/") && !f.startsWith("dist/") && !f.startsWith("public/") && !f.startsWith("client/dist/"))).toEqual(["package.json"]);
    // The console's copy of the client: the modules it serves, nothing else.
    expect(files.filter((f) => f.startsWith("client/dist/")).sort()).toEqual(CLIENT_MODULES.map((m) => `client/dist/${m}`).sort());
    for (const dev of DEV_ONLY) expect(() => statSync(join(app(), "node_modules", dev)), dev).toThrow();
    for (const prod of ["hono", "@nats-io/nats-core", "zod", "prom-client"]) expect(statSync(join(app(), "node_modules", prod)).isDirectory()).toBe(true);
    const dist = listFiles(join(app(), "dist"));
    expect(dist).toContain("src/server.js");
    expect(dist.filter((f) => !/\.js(\.map)?$/.test(f))).toEqual([]);
    expect(dist.some((f) => f.startsWith("test/") || f.startsWith("bench/"))).toBe(false);
    // Every package the build output imports (statically, or dynamically like the OpenTelemetry SDK) is installed.
    const imported = new Set<string>();
    for (const file of dist.filter((f) => f.endsWith(".js"))) {
      const code = readFileSync(join(app(), "dist", file), "utf8");
      const specs = [...code.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+"([^"]+)"|^import\s+"([^"]+)"|\bimport\(\s*"([^"]+)"\s*\)/gm)].map((m) => m[1] ?? m[2] ?? m[3]!);
      for (const spec of specs) {
        if (spec.startsWith(".") || spec.startsWith("node:")) continue;
        imported.add(spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!);
      }
    }
    expect(imported.size).toBeGreaterThan(10);
    for (const pkg of imported) expect(existsSync(join(app(), "node_modules", pkg, "package.json")), `${pkg} is imported by dist/ but not installed`).toBe(true);
    expect(image.user).toBe("node");
    // The image runs the gateway as `npm start` does, Node flags included.
    const start = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: { start: string } }).scripts.start;
    expect(image.cmd!.join(" ")).toBe(start);
    expect(image.exposed).toEqual([Number(image.env.PORT)]);
    console.log(`image-equivalent size: node_modules ${megabytes(join(app(), "node_modules")).toFixed(1)} MB, dist ${megabytes(join(app(), "dist")).toFixed(1)} MB, public ${megabytes(join(app(), "public")).toFixed(1)} MB`);
  });

  it("image - run with only NATS_URL (no config file) it refuses to come up open on 0.0.0.0: exit 1 naming auth.mode", async () => {
    const env = { ...image.env, PORT: String(await freePort()), NATS_URL: server.url, PATH: `${dirname(process.execPath)}:/usr/bin:/bin` };
    const p = spawnGateway(image.cmd!, app(), env);
    expect((await p.exited).code).toBe(1);
    expect(p.output()).toContain("natsgate: invalid configuration: auth.mode: is not set (no config file) while serving on 0.0.0.0");
  });

  it("image - its CMD serves against nats-server: /readyz 200, a 202 publish that reaches NATS, HEALTHCHECK passes, SIGTERM exits 0, nothing written to the filesystem", async () => {
    const before = listFiles(image.root);
    const port = await freePort();
    // As `docker run -e NATS_URL=… -e PORT=… -e NATSGATE_CONFIG=… -v config:…`: the image's ENV and the operator's.
    const config = join(out, "config.json");
    writeFileSync(config, JSON.stringify({ auth: { mode: "required", clients: [{ name: "svc", token: `sha256:${createHash("sha256").update(TOKEN).digest("hex")}`, publish: { allow: ["image.>"] } }] } }));
    const env = { ...image.env, PORT: String(port), NATS_URL: server.url, NATSGATE_CONFIG: config, PATH: `${dirname(process.execPath)}:/usr/bin:/bin` };
    const started = performance.now();
    gateway = spawnGateway(image.cmd!, app(), env);
    const url = `http://127.0.0.1:${port}`;
    const ready = async () => {
      if (gateway!.child.exitCode !== null) throw new Error(`the image's CMD exited: ${gateway!.output()}`);
      return (await fetch(`${url}/readyz`).catch(() => null))?.status;
    };
    await expect.poll(ready, { timeout: 10_000, interval: 10 }).toBe(200);
    console.log(`cold start to /readyz: ${Math.round(performance.now() - started)} ms`);

    const nc = await natsConnect(server.url);
    const sub = await collector(nc, "image.>");
    const res = await fetch(`${url}/v1/publish/image.check`, { method: "POST", headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}` }, body: '{"ok":true}' });
    expect(res.status).toBe(202);
    const [msg] = await sub.next(1);
    expect(new TextDecoder().decode(msg!.data)).toBe('{"ok":true}');
    await nc.close();

    const [program, ...args] = image.healthcheck!;
    expect(program).toBe("node");
    execFileSync(process.execPath, args, { env, stdio: "pipe" });

    gateway.child.kill("SIGTERM");
    expect(await gateway.exited).toEqual({ code: 0, signal: null });
    // A read-only root filesystem (deploy/k8s) holds: the process wrote nothing.
    expect(listFiles(image.root)).toEqual(before);
  }, 30_000);
});
