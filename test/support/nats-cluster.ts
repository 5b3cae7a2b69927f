/**
 * A real NATS cluster for tests: three nats-server processes on loopback, each
 * with its own client, monitor and route ports (free ones) and JetStream folder,
 * routed to each other. `start` resolves once every route is up and JetStream
 * has a meta leader, so streams with three replicas can be created at once.
 */
import { randomBytes } from "node:crypto";
import { NatsServer } from "./nats-server.js";
import { freePort } from "./process.js";

/** How long a cluster may take to form before the test fails, in ms. */
const FORM_TIMEOUT_MS = 20_000;

/** A running cluster of nats-servers. */
export class NatsCluster {
  private constructor(
    readonly name: string,
    readonly nodes: NatsServer[],
  ) {}

  /** Starts `size` routed servers with JetStream and waits until they form one cluster. */
  static async start(size = 3): Promise<NatsCluster> {
    const name = `natsgate-${randomBytes(4).toString("hex")}`;
    const routePorts: number[] = [];
    for (let i = 0; i < size; i++) routePorts.push(await freePort());
    const nodes = await Promise.all(
      routePorts.map((port, i) =>
        NatsServer.start({
          config: [
            `server_name: ${name}-n${i + 1}`,
            `cluster { name: ${name}, listen: "127.0.0.1:${port}", routes: [${routePorts
              .filter((_, j) => j !== i)
              .map((p) => `"nats-route://127.0.0.1:${p}"`)
              .join(", ")}] }`,
          ].join("\n"),
        }),
      ),
    );
    const cluster = new NatsCluster(name, nodes);
    try {
      await cluster.formed();
    } catch (err) {
      await cluster.cleanup();
      throw err;
    }
    return cluster;
  }

  /** Every node's client URL. */
  get urls(): string[] {
    return this.nodes.map((n) => n.url);
  }

  /** Resolves once every running node has routes to all the others and JetStream agrees on a meta leader. */
  async formed(running: NatsServer[] = this.nodes.filter((n) => n.pid !== undefined)): Promise<string> {
    const deadline = Date.now() + FORM_TIMEOUT_MS;
    for (;;) {
      const states = await Promise.all(running.map((n) => nodeState(n).catch(() => undefined)));
      const leaders = new Set(states.map((s) => s?.leader));
      const routed = states.every((s) => s && s.routes >= running.length - 1);
      const leader = states[0]?.leader;
      if (routed && leader && leaders.size === 1) return leader;
      if (Date.now() > deadline) throw new Error(`cluster ${this.name} did not form in ${FORM_TIMEOUT_MS} ms: ${JSON.stringify(states)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stops every node and removes its data. */
  async cleanup(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.cleanup()));
  }
}

/** A node's view: how many routes it has and which server it takes for the JetStream meta leader. */
async function nodeState(node: NatsServer): Promise<{ routes: number; leader: string | undefined }> {
  const [routez, jsz] = await Promise.all(
    [`${node.monitorUrl}/routez`, `${node.monitorUrl}/jsz`].map(async (u) => (await fetch(u, { signal: AbortSignal.timeout(1_000) })).json() as Promise<Record<string, any>>),
  );
  return { routes: routez!.num_routes as number, leader: jsz!.meta_cluster?.leader as string | undefined };
}
