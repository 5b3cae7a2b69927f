/**
 * Graceful shutdown on SIGTERM/SIGINT: stop accepting connections, let
 * in-flight requests finish (bounded by `server.shutdownTimeoutMs`), drain the
 * NATS connection so buffered publishes reach the server, stop an embedded
 * nats-server, and exit 0.
 */
import type { Server } from "node:http";
import type { Logger } from "../logger.js";

/** Things to close, in order. */
export interface ShutdownParts {
  server: Pick<Server, "close" | "closeIdleConnections" | "closeAllConnections">;
  /** Called as HTTP stops accepting (ends long-lived streams). */
  beforeClose?: () => void;
  /** Called once HTTP has stopped; should drain NATS and stop children. */
  after: () => Promise<void>;
  timeoutMs: number;
  logger: Logger;
}

/** Idle keep-alive sockets are closed this often while draining, in ms. */
const IDLE_SWEEP_MS = 50;

/** Closes the HTTP server, waiting for in-flight requests; resolves when done. */
export function closeHttp(parts: ShutdownParts): Promise<void> {
  return new Promise((done) => {
    const { server } = parts;
    // Connections that finish a response while we wait become idle; sweep them so close() can complete.
    const sweep = setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS);
    const force = setTimeout(() => {
      parts.logger.warn("shutdown timeout: closing remaining connections", { timeoutMs: parts.timeoutMs });
      server.closeAllConnections();
    }, parts.timeoutMs);
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(force);
      done();
    });
    parts.beforeClose?.();
    server.closeIdleConnections();
  });
}

/** Installs SIGTERM/SIGINT handlers that drain and exit 0 (a second signal exits at once). */
export function installShutdown(parts: ShutdownParts, exit: (code: number) => void = process.exit): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      parts.logger.warn("second signal: exiting now", { signal });
      return exit(1);
    }
    stopping = true;
    parts.logger.info("draining", { signal });
    void (async () => {
      try {
        await closeHttp(parts);
        await parts.after();
        parts.logger.info("stopped");
        exit(0);
      } catch (err) {
        parts.logger.error("shutdown failed", { err: String(err) });
        exit(1);
      }
    })();
  };
  process.on("SIGTERM", onSignal);
  process.on("SIGINT", onSignal);
}
