/**
 * `npm run -s hash-password`, the command every password error names: piped
 * and on a terminal (a pty from `script`), its refusals, and a hash it prints
 * taken by the config and verified by the gateway.
 */
import { PasswordAttempts } from "../../src/security/password-attempts.js";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/load.js";
import { silentLogger } from "../../src/logger.js";
import { Authenticator } from "../../src/security/auth.js";
import { parsePasswordHash, verifyPassword } from "../../src/security/passwords.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** Runs a shell command in the repository; resolves with its exit code and output. */
function sh(command: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn("sh", ["-c", command], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (c: Buffer) => (stdout += c.toString()));
    child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
    child.once("exit", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("hash-password", () => {
  it("piped: prints one scrypt hash of exactly the password (echo's newline dropped) that the config takes and the gateway verifies", async () => {
    const { code, stdout } = await sh(`echo 'pässwörd ✓' | npm run -s hash-password`);
    expect(code).toBe(0);
    const hash = stdout.trim();
    expect(stdout).toBe(hash + "\n");
    expect(hash).toMatch(/^scrypt:N=16384,r=8,p=1:[A-Za-z0-9_-]{22}:[A-Za-z0-9_-]{43}$/);
    expect(await verifyPassword("pässwörd ✓", parsePasswordHash(hash)!)).toBe(true);
    const config = parseConfig({ auth: { mode: "required", clients: [{ name: "probe", user: "probe", password: hash }] } });
    const auth = new Authenticator(config.auth, silentLogger);
    const guard = { remote: "192.0.2.1", attempts: new PasswordAttempts() };
    expect(await auth.authenticate({ user: "probe", password: "pässwörd ✓" }, guard)).toMatchObject({ name: "probe", kind: "password" });
    await expect(auth.authenticate({ user: "probe", password: "pässwörd ✓\n" }, guard)).rejects.toThrow("unknown user or wrong password");
  });

  it("on a terminal: asks twice (Password:, Again:); two different answers print nothing", async () => {
    const same = await sh(`printf 'tty secret\\ntty secret\\n' | script -qec "npm run -s hash-password" /dev/null`);
    expect(same.code).toBe(0);
    expect(same.stdout).toMatch(/Password: [^]*Again: /);
    const hash = /scrypt:\S+/.exec(same.stdout)![0];
    expect(await verifyPassword("tty secret", parsePasswordHash(hash)!)).toBe(true);
    const differ = await sh(`printf 'one\\ntwo\\n' | script -qec "npm run -s hash-password" /dev/null`);
    expect(differ.code).toBe(1);
    expect(differ.stdout).toContain("the two passwords differ; nothing printed");
    expect(differ.stdout).not.toContain("scrypt:");
  });

  it("refuses an empty password, control characters and a cost out of bounds; --cost sets N", async () => {
    const empty = await sh(`printf '' | npm run -s hash-password`);
    expect([empty.code, empty.stdout, empty.stderr]).toEqual([1, "", "an empty password is refused; nothing printed\n"]);
    // Control characters: no client could send them (RFC 7617); a second newline is not echo's.
    for (const input of ["'pa\\tss'", "'two\\nlines'", "'pw\\n\\n'"]) {
      const refused = await sh(`printf ${input} | npm run -s hash-password`);
      expect([refused.code, refused.stdout, refused.stderr]).toEqual([1, "", "a password may not hold control characters (tab, newline, …): no client could send it; nothing printed\n"]);
    }
    const cost = await sh(`printf x | npm run -s hash-password -- --cost 1000`);
    expect([cost.code, cost.stderr]).toEqual([2, "--cost must be a power of two of at least 1024 (default 16384), got 1000\n"]);
    // Past 256 MiB a check: refused before scrypt would take the memory.
    const huge = await sh(`printf x | npm run -s hash-password -- --cost 1048576`);
    expect([huge.code, huge.stderr]).toEqual([1, "hash-password: the hash asks scrypt for more than 256 MiB per check\n"]);
    const strong = await sh(`printf x | npm run -s hash-password -- --cost 32768`);
    expect(strong.stdout).toMatch(/^scrypt:N=32768,r=8,p=1:/);
  });

  it("a config with a clear-text password is refused, naming the key and the command", () => {
    expect(() => parseConfig({ auth: { mode: "required", clients: [{ name: "probe", user: "probe", password: "hunter2" }] } })).toThrow(
      "auth.clients[0].password: must be a password hash (scrypt:…), never the password itself: print one with `npm run -s hash-password`",
    );
    expect(() => parseConfig({ auth: { mode: "required", clients: [{ name: "probe", user: "probe" }] } })).toThrow("auth.clients[0].password: user and password go together");
    expect(() => parseConfig({ auth: { mode: "required", clients: [{ name: "probe" }] } })).toThrow("auth.clients[0].token: a client needs a token, or a user and password (or both)");
  });
});
