/**
 * deploy/k8s and docker-compose.yml (issue 13): every manifest parses and its
 * parts refer to each other (labels, ports, secrets, config path, security
 * context); the config each ships is valid and serves: the probes answer 200 on
 * real routes, and the compose config's schema, auth and webhook work against
 * a real nats-server.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse, parseAllDocuments } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { configFromData, parseConfig } from "../../src/config/load.js";
import { loadConfig } from "../../src/node/config-file.js";
import { parseDockerfile } from "../support/dockerfile.js";
import { startGateway } from "../support/gateway.js";
import { NatsServer } from "../support/nats-server.js";
import { startSink, type Sink } from "../support/sink.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const K8S = join(ROOT, "deploy/k8s");

type Doc = Record<string, any>;
const manifests: Doc[] = readdirSync(K8S)
  .filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml")
  .flatMap((f) => parseAllDocuments(readFileSync(join(K8S, f), "utf8")).map((d) => d.toJS() as Doc));
const ofKind = (kind: string) => {
  const found = manifests.filter((m) => m.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0]!;
};
const imagePort = () => parseDockerfile(readFileSync(join(ROOT, "Dockerfile"), "utf8")).at(-1)!.body.filter(([kw]) => kw === "EXPOSE").map(([, port]) => Number(port));

describe("deploy/k8s", () => {
  const deployment = () => ofKind("Deployment");
  const pod = () => deployment().spec.template.spec;
  const container = () => pod().containers[0];
  const shippedConfig = () => parse(ofKind("ConfigMap").data["natsgate.yaml"]);

  it("k8s - kustomization lists every manifest; the kinds the issue names are all there", () => {
    const kustomization = parse(readFileSync(join(K8S, "kustomization.yaml"), "utf8"));
    expect([...kustomization.resources].sort()).toEqual(readdirSync(K8S).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml").sort());
    expect(manifests.map((m) => m.kind).sort()).toEqual(["ConfigMap", "Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Secret", "Service"]);
  });

  it("k8s - labels, ports, config path and secret refer to what exists; the config validates", () => {
    const labels = deployment().spec.template.metadata.labels;
    for (const selector of [deployment().spec.selector.matchLabels, ofKind("Service").spec.selector, ofKind("PodDisruptionBudget").spec.selector.matchLabels]) {
      for (const [k, v] of Object.entries(selector)) expect(labels[k], k).toBe(v);
    }
    expect(ofKind("HorizontalPodAutoscaler").spec.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name: deployment().metadata.name });
    expect(ofKind("HorizontalPodAutoscaler").spec.minReplicas).toBeGreaterThanOrEqual(2);

    const config = parseConfig(shippedConfig());
    const http = container().ports.find((p: Doc) => p.name === "http");
    expect(http.containerPort).toBe(config.server.port);
    expect(imagePort()).toEqual([config.server.port]);
    expect(ofKind("Service").spec.ports.map((p: Doc) => p.targetPort)).toEqual(["http"]);

    const env = Object.fromEntries(container().env.map((e: Doc) => [e.name, e]));
    const mount = container().volumeMounts.find((m: Doc) => m.name === "config");
    const volume = pod().volumes.find((v: Doc) => v.name === "config");
    expect(volume.configMap.name).toBe(ofKind("ConfigMap").metadata.name);
    expect(env.NATSGATE_CONFIG.value).toBe(`${mount.mountPath}/natsgate.yaml`);
    // The image's PORT wins over the file's server.port: the manifest says the same number.
    expect(env.PORT.value).toBe(String(http.containerPort));
    expect(mount.readOnly).toBe(true);
    const ref = env.NATS_TOKEN.valueFrom.secretKeyRef;
    expect(ref.name).toBe(ofKind("Secret").metadata.name);
    expect(Object.keys(ofKind("Secret").stringData)).toContain(ref.key);
    // The pod's environment: NATS_TOKEN from the Secret joins the file's settings.
    expect(configFromData(shippedConfig(), { NATS_TOKEN: ofKind("Secret").stringData[ref.key] }, "configmap").config.nats.token).toBe("change-me");
  });

  it("k8s - non-root, read-only root filesystem, no privileges, resources set, and time to drain before SIGKILL", () => {
    expect(pod().securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(container().securityContext).toEqual({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
    expect(container().resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
    expect(container().resources.limits.memory).toEqual(expect.any(String));
    const drainMs = container().lifecycle.preStop.sleep.seconds * 1000 + parseConfig(shippedConfig()).server.shutdownTimeoutMs;
    expect(pod().terminationGracePeriodSeconds * 1000).toBeGreaterThan(drainMs);
    // A NATS outage must not restart every replica: liveness checks the process, readiness NATS.
    expect(container().livenessProbe.httpGet.path).toBe("/healthz");
    expect(container().readinessProbe.httpGet.path).toBe("/readyz");
  });

  describe("the probes against a real nats-server", () => {
    let server: NatsServer;
    beforeAll(async () => {
      server = await NatsServer.start();
    });
    afterAll(async () => {
      await server?.cleanup();
    });

    it("k8s - every probe points at a route that answers 200 with the ConfigMap's config", async () => {
      const config = shippedConfig();
      // One test node: the stream cannot have the cluster's three replicas here.
      for (const s of config.jetstream.streams) s.replicas = 1;
      const gw = await startGateway(server.url, config);
      try {
        const probes = ["readinessProbe", "livenessProbe", "startupProbe"].map((p) => container()[p].httpGet);
        for (const probe of probes) {
          expect(probe.port).toBe("http");
          expect((await gw.fetch(probe.path)).status, probe.path).toBe(200);
        }
      } finally {
        await gw.close();
      }
    });

    describe("docker-compose.yml", () => {
      const compose = parse(readFileSync(join(ROOT, "docker-compose.yml"), "utf8"));
      const gateway = compose.services.natsgate;
      const hostConfig = () => {
        const [host, container] = gateway.volumes[0].split(":");
        expect(gateway.environment.NATSGATE_CONFIG.startsWith(container + "/")).toBe(true);
        return join(ROOT, host, gateway.environment.NATSGATE_CONFIG.slice(container.length));
      };
      let sink: Sink;
      beforeAll(async () => {
        sink = await startSink();
      });
      afterAll(async () => {
        await sink?.close();
      });

      it("compose - NATS with JetStream, the gateway built here on the config's port, a webhook receiver the config points at", () => {
        expect(compose.services.nats.image).toMatch(/^nats:2\.1\d/);
        expect(compose.services.nats.command).toContain("--jetstream");
        expect(gateway.build).toBe(".");
        expect(gateway.environment.NATS_URL).toBe("nats://nats:4222");
        const { config } = loadConfig(["--config", hostConfig()], {});
        expect(gateway.ports).toEqual([`${config.server.port}:${config.server.port}`]);
        const hook = new URL(config.webhooks.endpoints[0]!.url);
        expect(Object.keys(compose.services)).toContain(hook.hostname);
        expect(compose.services[hook.hostname].command.join(" ")).toContain(`listen(${hook.port})`);
        // What the README promises to show: streams, a schema, a webhook, auth.
        expect([config.jetstream.streams.length, config.schemas.files.length, config.webhooks.endpoints.length, config.auth.mode]).toEqual([1, 1, 1, "required"]);
      });

      it("compose - its config works: the shop token publishes a valid order (201), a bad one is 422, the webhook gets it signed, the ops token reads /v1/stats", async () => {
        const { config } = loadConfig(["--config", hostConfig()], {});
        const raw = parse(readFileSync(hostConfig(), "utf8"));
        raw.schemas.files[0].jsonSchema = config.schemas.files[0]!.jsonSchema;
        raw.webhooks.endpoints[0].url = `${sink.url}/orders`;
        const gw = await startGateway(server.url, raw);
        try {
          const post = (body: unknown, token = "shop-demo-token") =>
            gw.fetch("/v1/publish/orders.created", { method: "POST", headers: { authorization: `Bearer ${token}`, "content-type": "application/json" }, body: JSON.stringify(body) });
          const ok = await post({ orderId: "o-1", amount: 12.5, currency: "EUR" });
          expect(ok.status).toBe(201);
          expect(await ok.json()).toMatchObject({ subject: "orders.created", stream: "ORDERS", seq: 1 });
          expect((await post({ orderId: "o-2", amount: -1, currency: "euro" })).status).toBe(422);
          expect((await post({ orderId: "o-3", amount: 1, currency: "EUR" }, "wrong-token")).status).toBe(401);
          const [delivery] = await sink.waitFor("/orders", 1);
          expect(JSON.parse(delivery!.body).data).toEqual({ orderId: "o-1", amount: 12.5, currency: "EUR" });
          expect(delivery!.headers["webhook-signature"]).toMatch(/^v1,/);
          expect((await gw.fetch("/v1/stats", { headers: { authorization: "Bearer ops-demo-token" } })).status).toBe(200);
        } finally {
          await gw.close();
        }
      });
    });
  });
});
