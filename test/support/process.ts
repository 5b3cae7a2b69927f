/** Runs the real Node entry point (`src/server.ts`) as a child process, as `npm start` does. */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** A gateway child process with its log lines. */
export interface GatewayProcess {
  child: ChildProcess;
  /** stderr so far. */
  output(): string;
  /** Resolves with the first JSON log line whose msg matches. */
  waitForLog(msg: string | RegExp, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Resolves with the exit code (or signal) once the process ends. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(): void;
}

/** Starts `src/server.ts` with `args` and exactly `env` (plus HOME). */
export function runGateway(args: string[], env: Record<string, string>): GatewayProcess {
  return spawnGateway([process.execPath, "--import", "tsx", "src/server.ts", ...args], ROOT, env);
}

/** Starts a gateway from any command line (`argv[0]` is the program) in `cwd`, with exactly `env` (plus HOME). */
export function spawnGateway(argv: string[], cwd: string, env: Record<string, string>): GatewayProcess {
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd,
    env: { HOME: process.env.HOME ?? "/tmp", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    out += chunk.toString();
    for (const l of listeners) l();
  };
  child.stderr!.on("data", onData);
  child.stdout!.on("data", onData);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("exit", (code, signal) => resolve({ code, signal })),
  );
  return {
    child,
    output: () => out,
    exited,
    kill: () => child.kill("SIGKILL"),
    waitForLog(msg, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          for (const line of out.split("\n")) {
            if (!line.startsWith("{")) continue;
            let entry: Record<string, unknown>;
            try {
              entry = JSON.parse(line);
            } catch {
              continue;
            }
            const m = String(entry.msg);
            if (typeof msg === "string" ? m === msg : msg.test(m)) {
              clearTimeout(timer);
              listeners.delete(check);
              resolve(entry);
              return;
            }
          }
        };
        const timer = setTimeout(() => {
          listeners.delete(check);
          reject(new Error(`no log line ${msg} within ${timeoutMs} ms; output:\n${out}`));
        }, timeoutMs);
        listeners.add(check);
        void exited.then(() => {
          if (!listeners.has(check)) return;
          check();
          if (listeners.has(check)) {
            clearTimeout(timer);
            listeners.delete(check);
            reject(new Error(`process exited before logging ${msg}; output:\n${out}`));
          }
        });
        check();
      });
    },
  };
}

/** A TCP port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Which of `pids` owns each local TCP port (Linux /proc): lets a test tell
 * which gateway process sent a request from the request's remote port.
 */
export async function portOwners(pids: number[]): Promise<Map<number, number>> {
  const { readdir, readlink, readFile } = await import("node:fs/promises");
  const inodeToPid = new Map<string, number>();
  for (const pid of pids) {
    for (const fd of await readdir(`/proc/${pid}/fd`).catch(() => [])) {
      const link = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => "");
      const m = /^socket:\[(\d+)\]$/.exec(link);
      if (m) inodeToPid.set(m[1]!, pid);
    }
  }
  const owners = new Map<number, number>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    const lines = (await readFile(table, "utf8").catch(() => "")).split("\n").slice(1);
    for (const line of lines) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10) continue;
      const pid = inodeToPid.get(cols[9]!);
      if (pid !== undefined) owners.set(parseInt(cols[1]!.split(":")[1]!, 16), pid);
    }
  }
  return owners;
}
