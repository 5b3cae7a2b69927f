/**
 * A real nats-server for tests: random client and monitoring ports, its own
 * temporary JetStream folder, and controls to stop, restart (same port, same
 * data), freeze and thaw it. Never a mock broker, never a fixed port.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Options for `NatsServer.start`. */
export interface NatsServerOptions {
  /** Enable JetStream (default true). */
  jetstream?: boolean;
  /** Client port (default: a random free one). */
  port?: number;
  /** Extra nats-server configuration text (appended to the generated file). */
  config?: string;
}

const READY_TIMEOUT_MS = 10_000;

/**
 * The nats-server binary: `NATS_SERVER_BIN` when set, else the one on PATH, else
 * Debian's /usr/sbin/nats-server (not on a non-root user's PATH).
 */
export function natsServerBinary(): string {
  if (process.env.NATS_SERVER_BIN) return process.env.NATS_SERVER_BIN;
  const onPath = (process.env.PATH ?? "").split(":").some((d) => d && existsSync(join(d, "nats-server")));
  return onPath || !existsSync("/usr/sbin/nats-server") ? "nats-server" : "/usr/sbin/nats-server";
}

/** A nats-server child process. */
export class NatsServer {
  port = 0;
  monitorPort = 0;
  /** Route (cluster) listener port, when the config enables one. */
  routePort = 0;
  /** WebSocket listener port, when the config enables one. */
  wsPort = 0;
  #child: ChildProcess | undefined;
  readonly #dir: string;
  readonly #confFile: string;

  private constructor(readonly opts: NatsServerOptions) {
    this.#dir = mkdtempSync(join(tmpdir(), "natsgate-test-"));
    this.#confFile = join(this.#dir, "nats.conf");
  }

  /** Starts a server on random ports. */
  static async start(opts: NatsServerOptions = {}): Promise<NatsServer> {
    const s = new NatsServer(opts);
    try {
      await s.#spawn(opts.port ?? -1, -1);
    } catch (err) {
      await s.cleanup();
      throw err;
    }
    return s;
  }

  /** `nats://127.0.0.1:<port>` */
  get url(): string {
    return `nats://127.0.0.1:${this.port}`;
  }

  /** Monitoring endpoint base URL. */
  get monitorUrl(): string {
    return `http://127.0.0.1:${this.monitorPort}`;
  }

  async #spawn(port: number, monitorPort: number): Promise<void> {
    const js = this.opts.jetstream === false ? "" : `jetstream { store_dir: ${JSON.stringify(join(this.#dir, "js"))} }`;
    writeFileSync(this.#confFile, `host: 127.0.0.1\nport: ${port}\nhttp: "127.0.0.1:${monitorPort}"\n${js}\n${this.opts.config ?? ""}\n`);
    const child = spawn(natsServerBinary(), ["-c", this.#confFile], { stdio: ["ignore", "ignore", "pipe"] });
    this.#child = child;
    let log = "";
    // "Server is ready" can come before the route or WebSocket listener says where it listens.
    const wantsRoute = /\bcluster\s*\{/.test(this.opts.config ?? "");
    const wantsWs = /\bwebsocket\s*\{/.test(this.opts.config ?? "");
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`nats-server not ready:\n${log}`)), READY_TIMEOUT_MS);
      child.stderr!.on("data", (chunk: Buffer) => {
        log += chunk.toString();
        const client = /Listening for client connections on [\d.]+:(\d+)/.exec(log);
        const monitor = /Starting http monitor on [\d.]+:(\d+)/.exec(log);
        if (client) this.port = Number(client[1]);
        if (monitor) this.monitorPort = Number(monitor[1]);
        const route = /Listening for route connections on [\d.]+:(\d+)/.exec(log);
        if (route) this.routePort = Number(route[1]);
        const ws = /Listening for websocket clients on ws:\/\/[\d.]+:(\d+)/.exec(log);
        if (ws) this.wsPort = Number(ws[1]);
        if (log.includes("Server is ready") && (!wantsRoute || route) && (!wantsWs || ws)) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`nats-server exited (${code}):\n${log}`));
      });
    });
    child.removeAllListeners("exit");
  }

  /** Stops the server (SIGTERM) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGCONT");
    await new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
  }

  /** Process id of the running server, if any. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /**
   * Kills the server (SIGKILL: no flush, no goodbye to clients) and waits for it
   * to exit. Ports and JetStream folder are kept, so `restart()` brings it back
   * with the same data on the same port.
   */
  async kill(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once("exit", () => resolve());
      child.kill("SIGKILL");
    });
  }

  /** Starts it again on the same ports with the same JetStream data. */
  async restart(): Promise<void> {
    await this.stop();
    await this.#spawn(this.port, this.monitorPort);
  }

  /**
   * Freezes the process (SIGSTOP): connections stay open, nothing is answered.
   * Resolves once the kernel reports it stopped — a signal is delivered
   * asynchronously, and a request sent in between would still be answered.
   */
  async freeze(): Promise<void> {
    const child = this.#child;
    if (!child?.pid) return;
    child.kill("SIGSTOP");
    const deadline = Date.now() + 2_000;
    // /proc/<pid>/stat: "pid (comm) STATE ..."; T means stopped.
    while (!/^\d+ \(.*\) T /.test(readFileSync(`/proc/${child.pid}/stat`, "utf8"))) {
      if (Date.now() > deadline) throw new Error("nats-server did not stop");
      await new Promise((r) => setTimeout(r, 1));
    }
  }

  /** Resumes a frozen process. */
  thaw(): void {
    this.#child?.kill("SIGCONT");
  }

  /** Stops the server and removes its data. */
  async cleanup(): Promise<void> {
    await this.stop();
    rmSync(this.#dir, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.cleanup();
  }
}
