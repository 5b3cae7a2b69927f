/**
 * `npm run -s hash-password`: prints the scrypt hash to store as a client's
 * `password` (auth.clients[]). The password is read from the terminal without
 * echo (asked twice), or from stdin when piped — never from the command line,
 * where shell history and `ps` would keep it.
 *
 *   npm run -s hash-password
 *   printf %s "$PASSWORD" | npm run -s hash-password
 *   npm run -s hash-password -- --cost 65536
 */
import { createInterface } from "node:readline";
import { Writable } from "node:stream";
import { DEFAULT_SCRYPT_COST, hashPassword, MIN_SCRYPT_COST, passwordProblem } from "../security/passwords.js";

/** Asks each prompt in turn on the terminal, with echo off; resolves with the lines typed. */
async function askAll(prompts: string[]): Promise<string[]> {
  // Output goes nowhere, so what is typed is not shown. One interface for every answer:
  // a second one would miss lines the first had already read ahead.
  const rl = createInterface({ input: process.stdin, output: new Writable({ write: (_c, _e, done) => done() }), terminal: true });
  const lines = rl[Symbol.asyncIterator]();
  const answers: string[] = [];
  try {
    for (const prompt of prompts) {
      process.stderr.write(prompt);
      const next = await lines.next();
      process.stderr.write("\n");
      if (next.done) break;
      answers.push(next.value);
    }
  } finally {
    rl.close();
  }
  return answers;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // `echo pw |` adds a newline the password does not have; anything else stays (and is judged).
  return Buffer.concat(chunks).toString("utf8").replace(/\r?\n$/, "");
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const costAt = args.indexOf("--cost");
  const cost = costAt === -1 ? DEFAULT_SCRYPT_COST : Number(args[costAt + 1]);
  if (!Number.isInteger(cost) || cost < MIN_SCRYPT_COST || (cost & (cost - 1)) !== 0) {
    process.stderr.write(`--cost must be a power of two of at least ${MIN_SCRYPT_COST} (default ${DEFAULT_SCRYPT_COST}), got ${args[costAt + 1]}\n`);
    return 2;
  }
  let password: string;
  if (process.stdin.isTTY) {
    const [first = "", again] = await askAll(["Password: ", "Again: "]);
    if (again !== first) {
      process.stderr.write("the two passwords differ; nothing printed\n");
      return 1;
    }
    password = first;
  } else {
    password = await readStdin();
  }
  const refused = passwordProblem(password);
  if (refused) {
    process.stderr.write(`${refused}; nothing printed\n`);
    return 1;
  }
  process.stdout.write((await hashPassword(password, { cost })) + "\n");
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`hash-password: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
