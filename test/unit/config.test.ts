import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { configPath, DEFAULT_CONFIG_FILE, loadConfig } from "../../src/node/config-file.js";
import { builtinSchemas } from "../../schemas/index.js";
import { subjectMatches } from "../../src/nats/subjects.js";
import { parseDuration } from "../../src/config/duration.js";
import { ConfigError } from "../../src/config/errors.js";
import { reconnectDelay, RECONNECT_MAX_MS, RECONNECT_MIN_MS } from "../../src/nats/connection-options.js";

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error("expected a ConfigError");
}

describe("config - defaults and validation", () => {
  it("an empty config gets every default", () => {
    const c = parseConfig({});
    expect(c.server).toMatchObject({ port: 8080, host: "0.0.0.0", maxBatchBytes: 32 * 1024 * 1024, fastPublish: true });
    expect(c.server.maxBodyBytes).toBeUndefined();
    expect(c.nats).toMatchObject({ servers: ["nats://127.0.0.1:4222"], name: "natsgate", embedded: "auto", ackTimeoutMs: 5000 });
    expect(c.jetstream.streams).toEqual([]);
    expect(c.schemas).toEqual({ strict: false, files: [] });
    expect(c.auth.mode).toBe("none");
    expect(c.sse).toEqual({ heartbeatMs: 15000, maxBufferedMessages: 1000 });
    expect(c.webhooks).toEqual({
      allowPrivateNetworks: false,
      allowlist: [],
      bucket: "natsgate_webhooks",
      deadLetterStream: "NATSGATE_DEAD_LETTERS",
      attemptStream: "NATSGATE_WEBHOOK_ATTEMPTS",
      deadLetterMaxAge: 30 * 86_400_000,
      attemptsPerWebhook: 100,
      pacedHosts: ["hooks.slack.com"],
      endpoints: [],
    });
    expect(parseConfig({ webhooks: { pacedHosts: ["Chat.Example.com"] } }).webhooks.pacedHosts).toEqual(["chat.example.com"]);
  });

  it("stream durations are parsed to milliseconds", () => {
    const c = parseConfig({ jetstream: { streams: [{ name: "EVENTS", subjects: ["a.>"], maxAge: "7d", duplicateWindow: "2m" }] } });
    expect(c.jetstream.streams[0]).toMatchObject({ maxAge: 7 * 86_400_000, duplicateWindow: 120_000, replicas: 1, storage: "file" });
  });

  it.each([
    [{ server: { port: 70000 } }, "server.port"],
    [{ server: { port: "80" } }, "server.port"],
    [{ servr: {} }, "servr"],
    [{ nats: { user: "u" } }, "nats.pass"],
    [{ nats: { token: "t", user: "u", pass: "p" } }, "nats"],
    [{ jetstream: { streams: [{ name: "A", subjects: [] }] } }, "jetstream.streams[0].subjects"],
    [{ jetstream: { streams: [{ name: "A.B", subjects: ["a"] }] } }, "jetstream.streams[0].name"],
    [{ jetstream: { streams: [{ name: "A", subjects: ["a"], storage: "disk" }] } }, "jetstream.streams[0].storage"],
    [{ jetstream: { streams: [{ name: "A", subjects: ["a"] }, { name: "A", subjects: ["b"] }] } }, "jetstream.streams[1].name"],
    [{ schemas: { strict: "yes" } }, "schemas.strict"],
    [{ auth: { mode: "sometimes" } }, "auth.mode"],
    [{ inbound: [{ name: "gh", subject: "x", verify: { type: "md5", secret: "s" } }] }, "inbound[0].verify.type"],
    [{ inbound: [{ name: "gh", subject: "gh.*", verify: { type: "github", secret: "s" } }] }, "inbound[0].subject"],
    [{ inbound: [{ name: "gh", subject: "a", verify: { type: "github", secret: "s" } }, { name: "gh", subject: "b", verify: { type: "github", secret: "s" } }] }, "inbound[1].name"],
    [{ webhooks: { endpoints: [{ subjects: ["a"], url: "https://x.example" }] } }, "webhooks.endpoints[0].id"],
    [{ webhooks: { endpoints: [{ id: "w", subjects: ["a"], url: "https://x.example", secret: "plain" }] } }, "webhooks.endpoints[0].secret"],
    [{ webhooks: { endpoints: [{ id: "w", subjects: ["a"], url: "https://x.example" }, { id: "w", subjects: ["b"], url: "https://x.example" }] } }, "webhooks.endpoints[1].id"],
    [{ webhooks: { allowlist: ["10.0.0.0/33"] } }, "webhooks.allowlist[0]"],
    [{ webhooks: { allowlist: ["bad host!"] } }, "webhooks.allowlist[0]"],
    [{ webhooks: { deadLetterMaxAge: "forever" } }, "webhooks.deadLetterMaxAge"],
    [{ webhooks: { bucket: "a.b" } }, "webhooks.bucket"],
    [{ server: { maxJsonDepth: 5_000 } }, "server.maxJsonDepth"],
    [{ server: { readTimeoutMs: 10 } }, "server.readTimeoutMs"],
    [{ server: { fastPublish: "off" } }, "server.fastPublish"],
    [{ auth: { clients: [{ name: "a", token: "t".repeat(20), publish: { deny: ["secret.> x"] } }] } }, "auth.clients[0].publish.deny[0]"],
    [{ auth: { clients: [{ name: "a", token: "t".repeat(20), subscribe: { allow: ["jobs.> workers extra"] } }] } }, "auth.clients[0].subscribe.allow[0]"],
    [{ webhooks: { pacedHosts: ["https://hooks.slack.com/x"] } }, "webhooks.pacedHosts[0]"],
  ])("%j is refused naming %s", (data, key) => {
    const err = configError(() => parseConfig(data));
    expect(err.key).toBe(key);
    expect(err.message.startsWith(`${key}: `)).toBe(true);
  });
});

describe("config - the default file (natsgate.yaml at the package root)", () => {
  it("is used when neither --config nor NATSGATE_CONFIG is given; either one wins over it", () => {
    expect(loadConfig([], {})).toMatchObject({ file: DEFAULT_CONFIG_FILE, isDefault: true });
    // Named explicitly, the same file is the user's choice: its streams are managed.
    expect(loadConfig(["--config", DEFAULT_CONFIG_FILE], {}).isDefault).toBe(false);
    const other = join(mkdtempSync(join(tmpdir(), "natsgate-cfg-")), "c.json");
    writeFileSync(other, "{}");
    expect(loadConfig([], { NATSGATE_CONFIG: other }).config.jetstream.streams).toEqual([]);
    expect(loadConfig(["--config", other], {}).file).toBe(other);
  });

  it("declares a stream capturing every built-in event family, with no auth, on :8080", () => {
    const { config } = loadConfig([], {});
    expect(config.server.port).toBe(8080);
    // No auth, so loopback only.
    expect(config.server.host).toBe("127.0.0.1");
    expect(config.auth.mode).toBe("none");
    const streams = config.jetstream.streams;
    expect(streams.map((s) => s.name)).toEqual(["EVENTS"]);
    for (const pattern of Object.keys(builtinSchemas)) {
      const example = pattern.replaceAll("*", "dev");
      expect([pattern, streams[0]!.subjects.some((s) => subjectMatches(s, example))]).toEqual([pattern, true]);
    }
  });
});

describe("config - files and environment", () => {
  const write = (name: string, content: string) => {
    const file = join(mkdtempSync(join(tmpdir(), "natsgate-cfg-")), name);
    writeFileSync(file, content);
    return file;
  };

  it("--config and NATSGATE_CONFIG name the file; --config wins", () => {
    expect(configPath(["--config", "a.yaml"], { NATSGATE_CONFIG: "b.yaml" })).toBe("a.yaml");
    expect(configPath(["--config=c.yaml"], {})).toBe("c.yaml");
    expect(configPath([], { NATSGATE_CONFIG: "b.yaml" })).toBe("b.yaml");
    expect(configPath([], {})).toBeUndefined();
    expect(configError(() => configPath(["--config"], {})).key).toBe("--config");
  });

  it("YAML and JSON files load; PORT, HOST and NATS_URL override them", () => {
    const yaml = write("c.yaml", "server:\n  port: 9000\nnats:\n  servers: [nats://a:4222]\n");
    const fromFile = loadConfig(["--config", yaml], {});
    expect(fromFile.config.server.port).toBe(9000);
    expect(fromFile.natsExplicit).toBe(true);
    expect(fromFile.natsFromEnv).toBe(false);

    const json = write("c.json", JSON.stringify({ server: { port: 9001 } }));
    const env = loadConfig(["--config", json], { PORT: "9100", HOST: "127.0.0.1", NATS_URL: "nats://x:1, nats://y:2" });
    expect(env.config.server).toMatchObject({ port: 9100, host: "127.0.0.1" });
    expect(env.config.nats.servers).toEqual(["nats://x:1", "nats://y:2"]);
    expect(env.natsFromEnv).toBe(true);
  });

  it("log.level and log.format come from the file, LOG_LEVEL and LOG_FORMAT override them", () => {
    expect(parseConfig({}).log).toEqual({ level: "info", format: "json" });
    const file = write("c.yaml", "log:\n  level: warn\n  format: pretty\n");
    expect(loadConfig(["--config", file], {}).config.log).toEqual({ level: "warn", format: "pretty" });
    expect(loadConfig(["--config", file], { LOG_LEVEL: "debug", LOG_FORMAT: "json" }).config.log).toEqual({ level: "debug", format: "json" });
    expect(loadConfig(["--config", file], { LOG_LEVEL: "", LOG_FORMAT: "" }).config.log).toEqual({ level: "warn", format: "pretty" });
    expect(loadConfig(["--config", file], { LOG_LEVEL: "INFO", LOG_FORMAT: "JSON" }).config.log).toEqual({ level: "info", format: "json" });
    const bad = configError(() => parseConfig({ log: { level: "verbose" } }));
    expect(bad.key).toBe("log.level");
  });

  it("NATS_TOKEN sets nats.token; beside another credential in the file it is refused naming nats", () => {
    expect(loadConfig([], { NATS_TOKEN: "s3cret" }).config.nats.token).toBe("s3cret");
    const file = write("c.yaml", "nats:\n  user: a\n  pass: b\n");
    expect(configError(() => loadConfig(["--config", file], { NATS_TOKEN: "s3cret" })).message).toContain("choose one of token, user+pass, nkeySeed or credsFile");
  });

  it("with no config file at all it does not serve beyond loopback (the image: HOST=0.0.0.0, no file)", () => {
    const none = "/nonexistent/natsgate.yaml";
    expect(configError(() => loadConfig([], { HOST: "0.0.0.0" }, none)).key).toBe("auth.mode");
    expect(configError(() => loadConfig([], { HOST: "0.0.0.0" }, none)).message).toContain("every caller could publish");
    expect(loadConfig([], { HOST: "127.0.0.1" }, none).config.auth.mode).toBe("none");
    // A file is a choice, with or without auth.
    expect(loadConfig(["--config", write("any.yaml", "server:\n  host: 0.0.0.0\n")], {}).config.server.host).toBe("0.0.0.0");
  });

  it("relative paths in the file resolve against the file's folder", () => {
    const file = write("c.yaml", "schemas:\n  files: [{ subject: a.b, jsonSchema: ./s.json }]\n");
    const { config } = loadConfig(["--config", file], {});
    expect(config.schemas.files[0]!.jsonSchema).toBe(join(file, "..", "s.json"));
  });

  it.each([
    [{ PORT: "abc" }, "PORT"],
    [{ PORT: "65536" }, "PORT"],
    [{ NATS_URL: " , " }, "NATS_URL"],
    [{ LOG_LEVEL: "verbose" }, "LOG_LEVEL"],
    [{ LOG_FORMAT: "text" }, "LOG_FORMAT"],
  ])("env %j is refused naming %s", (env, key) => {
    expect(configError(() => loadConfig([], env)).key).toBe(key);
  });

  it("an unreadable or malformed file is a ConfigError", () => {
    expect(configError(() => loadConfig(["--config", "/nonexistent/x.yaml"], {})).message).toContain("cannot read config file");
    expect(configError(() => loadConfig(["--config", write("c.json", "{")], {})).message).toContain("is not valid JSON");
    expect(configError(() => loadConfig(["--config", write("c.yaml", "- 1\n- 2\n")], {})).key).toBe("(root)");
  });
});

describe("durations and reconnect backoff", () => {
  it.each([
    ["500ms", 500],
    ["30s", 30_000],
    ["5m", 300_000],
    ["2h", 7_200_000],
    ["7d", 604_800_000],
    ["1.5s", 1500],
    ["250", 250],
    [1000, 1000],
    ["forever", undefined],
    ["5 weeks", undefined],
    [-1, undefined],
  ])("parseDuration(%j) is %j", (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it("reconnect delay grows with downtime, is bounded, and adds at most 25% jitter", () => {
    expect(reconnectDelay(0, 0)).toBe(RECONNECT_MIN_MS);
    expect(reconnectDelay(2_000, 0)).toBe(1_000);
    expect(reconnectDelay(60_000, 0)).toBe(RECONNECT_MAX_MS);
    expect(reconnectDelay(60_000, 1)).toBe(RECONNECT_MAX_MS * 1.25);
    expect(reconnectDelay(0, 0.5)).toBe(Math.round(RECONNECT_MIN_MS * 1.125));
  });
});
