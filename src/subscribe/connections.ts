/**
 * The live SSE and WebSocket sessions of this replica, for operators
 * (`GET /v1/connections`, `DELETE /v1/connections/{id}`) and for metrics: what
 * each has sent, dropped and holds buffered. Counts of ended sessions are kept
 * as totals, so the metrics only ever grow.
 */
import { randomBytes } from "node:crypto";

/** What a session reports about itself. */
export interface SessionStats {
  /** Subjects it is subscribed to now. */
  subjects(): string[];
  /** Messages handed to the client's connection. */
  readonly sent: number;
  /** Messages dropped for this client (left queued when its stream was ended, or after it closed). */
  readonly dropped: number;
  /** Messages (SSE) or bytes (WebSocket) waiting to be written to the client. */
  buffered(): number;
  /** Ends the session cleanly: SSE with `event: shutdown`, WebSocket with 1001; the client can resume. */
  end(): void;
}

/** A session as listed. */
export interface Connection {
  id: string;
  client: string;
  clientKind: string;
  remote: string | undefined;
  transport: "sse" | "ws";
  connectedAt: number;
  stats: SessionStats;
}

/** Filter and page of a listing. */
export interface ConnectionQuery {
  client?: string;
  /** The id after which the page starts (ids are listed in the order the sessions opened). */
  after?: string;
  limit: number;
}

/** The registry of this replica's sessions. */
export class Connections {
  readonly #live = new Map<string, Connection>();
  readonly #retired = { sse: { sent: 0, dropped: 0 }, ws: { sent: 0, dropped: 0 } };
  #opened = 0;

  /** Registers a session; returns its id and the function that removes it. */
  add(c: Omit<Connection, "id">): { id: string; remove: () => void } {
    // The order it opened in, then a part nobody can guess: a page resumes after an id
    // even when that session has ended since.
    const id = `c${++this.#opened}-${randomBytes(6).toString("hex")}`;
    this.#live.set(id, { id, ...c });
    return {
      id,
      remove: () => {
        if (!this.#live.delete(id)) return;
        this.#retired[c.transport].sent += c.stats.sent;
        this.#retired[c.transport].dropped += c.stats.dropped;
      },
    };
  }

  get(id: string): Connection | undefined {
    return this.#live.get(id);
  }

  /** One page: sessions in the order they opened, from after `after`, of `client` if given. */
  list(q: ConnectionQuery): { page: Connection[]; next: string | undefined } {
    const after = q.after === undefined ? 0 : order(q.after);
    const all = [...this.#live.values()].filter((c) => order(c.id) > after && (q.client === undefined || c.client === q.client));
    const page = all.slice(0, q.limit);
    return { page, next: all.length > q.limit ? page.at(-1)!.id : undefined };
  }

  /** Messages sent or dropped by every session so far (ended ones included), by transport. */
  total(transport: "sse" | "ws", what: "sent" | "dropped"): number {
    let n = this.#retired[transport][what];
    for (const c of this.#live.values()) if (c.transport === transport) n += c.stats[what];
    return n;
  }

  /** Messages (SSE) or bytes (WebSocket) buffered for clients now. */
  buffered(transport: "sse" | "ws"): number {
    let n = 0;
    for (const c of this.#live.values()) if (c.transport === transport) n += c.stats.buffered();
    return n;
  }

  get size(): number {
    return this.#live.size;
  }
}

/** What a connection id looks like: its opening order, then 48 random bits. */
export const CONNECTION_ID = /^c(\d{1,15})-[0-9a-f]{12}$/;

/** The opening order an id carries (0 for anything else). */
function order(id: string): number {
  const m = CONNECTION_ID.exec(id);
  return m ? Number(m[1]) : 0;
}
