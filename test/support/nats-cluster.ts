/**
 * A real NATS cluster for tests: three nats-server processes on loopback, each
 * with its own client, monitor and route ports (chosen by the servers) and
 * JetStream folder, routed to each other. `start` resolves once every route is up and JetStream
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
    // The other nodes pick their own route ports and learn each other from the first (gossip),
    // so only one port is chosen ahead; the first node routes to itself (JetStream wants a
    // configured route), and is tried again on another port if that one was taken meanwhile.
    const node = (i: number, listen: number | "-1", seed: number) =>
      NatsServer.start({
        config: [`server_name: ${name}-n${i + 1}`, `cluster { name: ${name}, listen: "127.0.0.1:${listen}", routes: ["nats-route://127.0.0.1:${seed}"] }`].join("\n"),
      });
    let first: NatsServer | undefined;
    for (let attempt = 1; !first; attempt++) {
      const port = await freePort();
      const started = await node(0, port, port).catch((err) => {
        if (attempt >= 5) throw err;
        return undefined;
      });
      // Bound where asked (a taken port can still let 2.10 print "Server is ready" before it exits).
      if (started && started.routePort === port) first = started;
      else await started?.cleanup();
      if (!first && attempt >= 5) throw new Error("no free route port for the cluster's first node");
    }
    const nodes = [first];
    try {
      nodes.push(...(await Promise.all(Array.from({ length: size - 1 }, (_, i) => node(i + 1, "-1", first.routePort)))));
      const cluster = new NatsCluster(name, nodes);
      await cluster.formed();
      return cluster;
    } catch (err) {
      await Promise.all(nodes.map((n) => n.cleanup()));
      throw err;
    }
  }

  /** Every node's client URL. */
  get urls(): string[] {
    return this.nodes.map((n) => n.url);
  }

  /**
   * Resolves once every running node has routes to all the others, JetStream agrees on a meta
   * leader, and that leader counts every other node as a current peer (before that, a stream
   * with as many replicas as nodes finds "no suitable peers for placement").
   */
  async formed(running: NatsServer[] = this.nodes.filter((n) => n.pid !== undefined)): Promise<string> {
    const deadline = Date.now() + FORM_TIMEOUT_MS;
    for (;;) {
      const states = await Promise.all(running.map((n) => nodeState(n).catch(() => undefined)));
      const leaders = new Set(states.map((s) => s?.leader));
      const routed = states.every((s) => s && s.routes >= running.length - 1);
      const leader = states[0]?.leader;
      const peered = states.some((s) => s?.currentPeers === running.length - 1);
      if (routed && leader && leaders.size === 1 && peered) return leader;
      if (Date.now() > deadline) throw new Error(`cluster ${this.name} did not form in ${FORM_TIMEOUT_MS} ms: ${JSON.stringify(states)}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stops every node and removes its data. */
  async cleanup(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.cleanup()));
  }
}

/** A node's view: its routes, the JetStream meta leader it knows, and (on the leader) its current peers. */
async function nodeState(node: NatsServer): Promise<{ routes: number; leader: string | undefined; currentPeers: number }> {
  const [routez, jsz] = await Promise.all(
    [`${node.monitorUrl}/routez`, `${node.monitorUrl}/jsz`].map(async (u) => (await fetch(u, { signal: AbortSignal.timeout(1_000) })).json() as Promise<Record<string, any>>),
  );
  const replicas = (jsz!.meta_cluster?.replicas ?? []) as { current?: boolean }[];
  return { routes: routez!.num_routes as number, leader: jsz!.meta_cluster?.leader as string | undefined, currentPeers: replicas.filter((r) => r.current).length };
}
