/**
 * HTTP/1.1 over a bare socket, for tests that must send what fetch would tidy
 * away (a repeated header, odd case or spacing, a body shorter than its
 * Content-Length) and see the response as the server wrote it.
 */
import { connect, type Socket } from "node:net";

/** A response as it came off the wire. */
export interface RawResponse {
  status: number;
  /** Lowercased names; each name's values in order. */
  headers: Record<string, string[]>;
  body: string;
  /** Resolves once the server has ended the connection (it may keep it open: then it never does). */
  closed: Promise<void>;
}

/** What to send: `head` lines after the request line, without Host, and the body bytes. */
export interface RawRequest {
  method?: string;
  path: string;
  head: string[];
  /** The Host header's value (default: the URL's host and port). */
  host?: string;
  body?: string | Buffer;
  /** Stop after this many body bytes and close the socket: a client gone mid-body. No response is awaited. */
  cutAfter?: number;
}

/** Sends one request on a new connection to `url` and reads one response (by its Content-Length). */
export function rawRequest(url: string, req: RawRequest): Promise<RawResponse | undefined> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  const body = typeof req.body === "string" ? Buffer.from(req.body) : (req.body ?? Buffer.alloc(0));
  const head = [`${req.method ?? "POST"} ${req.path} HTTP/1.1`, `Host: ${req.host ?? `${hostname}:${port}`}`, ...req.head, "", ""].join("\r\n");
  if (req.cutAfter !== undefined) {
    socket.write(Buffer.concat([Buffer.from(head, "latin1"), body.subarray(0, req.cutAfter)]), () => socket.destroy());
    return Promise.resolve(undefined);
  }
  socket.write(Buffer.concat([Buffer.from(head, "latin1"), body]));
  return readResponse(socket);
}

function readResponse(socket: Socket): Promise<RawResponse> {
  const closed = new Promise<void>((resolve) => socket.once("end", () => resolve()));
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf("\r\n\r\n");
      if (end === -1) return;
      const [statusLine, ...lines] = buf.subarray(0, end).toString("latin1").split("\r\n");
      const headers: Record<string, string[]> = {};
      for (const line of lines) {
        const colon = line.indexOf(":");
        const name = line.slice(0, colon).toLowerCase();
        (headers[name] ??= []).push(line.slice(colon + 1).trim());
      }
      const length = Number(headers["content-length"]?.[0] ?? 0);
      if (buf.byteLength < end + 4 + length) return;
      socket.off("data", onData);
      const status = Number(statusLine!.split(" ")[1]);
      resolve({ status, headers, body: buf.subarray(end + 4, end + 4 + length).toString("utf8"), closed });
      // The server decides whether the connection lives on; either way this test is done with it.
      setTimeout(() => socket.destroy(), 200).unref();
    };
    socket.on("data", onData);
    socket.once("error", reject);
    socket.once("close", () => reject(new Error(`connection closed before a whole response (${buf.byteLength} bytes)`)));
  });
}
