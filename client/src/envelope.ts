/** One NATS message as the gateway delivers it (SSE data, WebSocket `msg` frames, webhook bodies). */
export interface Envelope<T = unknown> {
  subject: string;
  /** The payload: parsed JSON where it is JSON, else its text. */
  data: T;
  /** NATS headers under their HTTP names. */
  headers?: Record<string, string>;
  /** The stream that stored it, and where. */
  stream?: string;
  seq?: number;
  time: string;
}
