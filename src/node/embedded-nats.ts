/**
 * `nats.embedded: auto`: when no NATS_URL is given and nothing answers at the
 * configured loopback address, launch `nats-server` from PATH with JetStream in
 * a local data folder, so `npm start` works on a laptop with nothing running.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { accessSync, constants, mkdirSync } from "node:fs";
import { connect as tcpConnect } from "node:net";
import { delimiter, join, resolve } from "node:path";
import type { LoadedConfig } from "../config/load.js";
import type { Logger } from "../logger.js";

/** How long the embedded server may take to say it is ready: 10 s. */
export const EMBEDDED_START_TIMEOUT_MS = 10_000;
/** How long a probe of an existing server may take: 500 ms. */
const PROBE_TIMEOUT_MS = 500;

/** One-line hint printed when nats-server is needed but missing. */
export const INSTALL_HINT =
  "nats-server was not found on PATH and nothing answers at %s: install it (Debian/Ubuntu: apt-get install nats-server; macOS: brew install nats-server; or docker run -p 4222:4222 nats -js), or set NATS_URL to a running server";

/** Raised when the embedded server is needed but cannot be started. */
export class EmbeddedNatsError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "EmbeddedNatsError";
  }
}

/** A running embedded server. */
export interface EmbeddedNats {
  url: string;
  pid: number;
  dataDir: string;
  stop(): Promise<void>;
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "::1", "[::1]"]);

/** Host and port of a loopback NATS URL, or undefined if it is not one. */
export function loopbackTarget(server: string): { host: string; port: number } | undefined {
  const withScheme = server.includes("://") ? server : `nats://${server}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return undefined;
  }
  if (url.protocol !== "nats:" || !LOOPBACK.has(url.hostname)) return undefined;
  return { host: url.hostname.replace(/^\[|\]$/g, ""), port: url.port ? Number(url.port) : 4222 };
}

/** True when something accepts TCP connections at host:port. */
export function answers(host: string, port: number, timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  return new Promise((done) => {
    const socket = tcpConnect({ host, port });
    const finish = (ok: boolean) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once("connect", () => finish(true));
    socket.once("error", () => finish(false));
  });
}

/** Absolute path of an executable on PATH, or undefined. */
export function findOnPath(name: string, path = process.env.PATH ?? ""): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function waitReady(child: ChildProcess): Promise<void> {
  return new Promise((ok, fail) => {
    let output = "";
    const timer = setTimeout(() => fail(new EmbeddedNatsError(`nats-server did not become ready: ${output.slice(-500)}`)), EMBEDDED_START_TIMEOUT_MS);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes("Server is ready")) {
        clearTimeout(timer);
        child.stderr?.off("data", onData);
        child.stderr?.resume();
        ok();
      }
    };
    child.stderr?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      fail(new EmbeddedNatsError(`nats-server exited with code ${code}: ${output.slice(-500).trim()}`));
    });
  });
}

/** Starts nats-server when `nats.embedded: auto` applies; undefined when it does not. */
export async function startEmbeddedIfNeeded(loaded: LoadedConfig, logger: Logger, dataRoot = ".natsgate"): Promise<EmbeddedNats | undefined> {
  const { nats } = loaded.config;
  if (nats.embedded !== "auto" || loaded.natsFromEnv || nats.servers.length !== 1) return undefined;
  const target = loopbackTarget(nats.servers[0]!);
  if (!target || (await answers(target.host, target.port))) return undefined;
  const url = `nats://${target.host.includes(":") ? `[${target.host}]` : target.host}:${target.port}`;
  const bin = process.env.NATS_SERVER_BIN || findOnPath("nats-server");
  if (!bin) throw new EmbeddedNatsError(INSTALL_HINT.replace("%s", url));
  const dataDir = resolve(dataRoot, "jetstream");
  mkdirSync(dataDir, { recursive: true });
  const child = spawn(bin, ["-a", target.host, "-p", String(target.port), "-js", "-sd", dataDir], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  await waitReady(child);
  logger.info("started embedded nats-server (nothing was answering there)", { url, pid: child.pid, dataDir, bin });
  return {
    url,
    pid: child.pid!,
    dataDir,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once("exit", () => done());
        child.kill("SIGTERM");
      }),
  };
}
