/**
 * A real NATS cluster for tests: three nats-server processes on loopback, each
 * with its own client and monitor ports (chosen by the servers), route port and
 * JetStream folder, each routed to all the others. `start` resolves once every route is up and JetStream
 * has a meta leader, so streams with three replicas can be created at once.
 */
import { randomBytes } from "node:crypto";
import { NatsServer } from "./nats-server.js";
import { freePort } from "./process.js";

/** How long a started cluster may take to form before it is started afresh, in ms (it takes 0.2–0.7 s here). */
const FORM_TIMEOUT_MS = 6_000;
/** How many times a cluster is started before the test fails. */
const START_ATTEMPTS = 4;

/** `n` distinct ports free at the time of asking. */
async function freePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

/** A running cluster of nats-servers. */
export class NatsCluster {
  private constructor(
    readonly name: string,
    readonly nodes: NatsServer[],
  ) {}

  /** Starts `size` routed servers with JetStream and waits until they form one cluster. */
  static async start(size = 3): Promise<NatsCluster> {
    // Every node is given every route, as operators configure a cluster. Route ports are picked
    // ahead, so one may be taken by the time its server binds: that server exits. And even with
    // every route known, 2.10 now and then elects a JetStream meta leader among two nodes and
    // never adds the third (cluster_size 2: an R3 stream finds "no suitable peers for
    // placement"; about 1 start in 20 here). Either way the cluster is started afresh.
    let failure: unknown;
    for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
      const name = `natsgate-${randomBytes(4).toString("hex")}`;
      const ports = await freePorts(size);
      const routes = ports.map((p) => `"nats-route://127.0.0.1:${p}"`).join(", ");
      const results = await Promise.allSettled(
        ports.map((port, i) =>
          NatsServer.start({ config: `server_name: ${name}-n${i + 1}\ncluster { name: ${name}, listen: "127.0.0.1:${port}", routes: [${routes}] }` }),
        ),
      );
      const nodes = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
      failure = results.find((r): r is PromiseRejectedResult => r.status === "rejected")?.reason;
      if (!failure) {
        const cluster = new NatsCluster(name, nodes);
        try {
          await cluster.formed(nodes, FORM_TIMEOUT_MS);
          return cluster;
        } catch (err) {
          failure = err;
        }
      }
      await Promise.all(nodes.map((n) => n.cleanup()));
    }
    throw failure;
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
  async formed(running: NatsServer[] = this.nodes.filter((n) => n.pid !== undefined), timeoutMs = FORM_TIMEOUT_MS): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const states = await Promise.all(running.map((n) => nodeState(n).catch(() => undefined)));
      const leaders = new Set(states.map((s) => s?.leader));
      const routed = states.every((s) => s && s.routes >= running.length - 1);
      const leader = states[0]?.leader;
      const peered = states.some((s) => s?.currentPeers === running.length - 1);
      if (routed && leader && leaders.size === 1 && peered) return leader;
      if (Date.now() > deadline) throw new Error(`cluster ${this.name} did not form in ${timeoutMs} ms: ${JSON.stringify(states)}`);
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
