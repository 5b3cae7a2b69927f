/** NATS-side helpers for tests: a plain nats.js client to observe what the gateway published. */
import { connect, type Msg, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import type { JetStreamManager } from "@nats-io/jetstream";

/** Connects a test client. */
export function natsConnect(url: string, opts: { token?: string } = {}): Promise<NatsConnection> {
  return connect({ servers: url, name: "natsgate-test", ...opts });
}

/** Subscribes and collects messages; `next(n)` resolves when n messages in total have arrived. */
export async function collector(nc: NatsConnection, subject: string) {
  const messages: Msg[] = [];
  const waiters: { n: number; resolve: () => void }[] = [];
  const sub: Subscription = nc.subscribe(subject, {
    callback: (_err, msg) => {
      messages.push(msg);
      for (const w of [...waiters]) {
        if (messages.length >= w.n) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve();
        }
      }
    },
  });
  // Make sure the server has the subscription before anything is published.
  await nc.flush();
  return {
    messages,
    /** Resolves with the messages once `n` have arrived (rejects after `timeoutMs`). */
    async next(n = messages.length + 1, timeoutMs = 5_000): Promise<Msg[]> {
      if (messages.length < n) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error(`only ${messages.length}/${n} messages on ${subject}`)), timeoutMs);
          waiters.push({ n, resolve: () => (clearTimeout(timer), resolve()) });
        });
      }
      return messages;
    },
    unsubscribe: () => sub.unsubscribe(),
  };
}

/** Text of a message's payload. */
export const text = (m: Msg) => new TextDecoder().decode(m.data);

/**
 * Subjects the gateway's NATS connection is subscribed to, from the server's
 * monitoring endpoint (its inboxes and JetStream advisory subscription excluded).
 */
export async function gatewaySubjects(monitorUrl: string): Promise<string[]> {
  const connz = (await (await fetch(`${monitorUrl}/connz?subs=1`)).json()) as { connections: { name?: string; subscriptions_list?: string[] }[] };
  return connz.connections
    .filter((c) => c.name === "natsgate")
    .flatMap((c) => c.subscriptions_list ?? [])
    .filter((s) => !s.startsWith("_INBOX.") && !s.startsWith("$JS.EVENT."));
}

/** Every message a stream holds, in order, with its JSON body: to check what acknowledged publishes left there. */
export async function storedMessages(jsm: JetStreamManager, stream: string): Promise<{ seq: number; subject: string; json: any }[]> {
  const { state } = await jsm.streams.info(stream);
  const out: { seq: number; subject: string; json: any }[] = [];
  for (let seq = state.first_seq; seq <= state.last_seq; seq++) {
    const m = (await jsm.streams.getMessage(stream, { seq }))!;
    out.push({ seq, subject: m.subject, json: JSON.parse(m.string()) });
  }
  return out;
}
