/**
 * The stored form of a client password (`auth.clients[].password`), checked
 * when the config is read: `scrypt:N=<cost>,r=<block>,p=<parallel>:<salt>:<key>`,
 * salt and key in base64url. Hashing and verifying live in `security/passwords.ts`.
 */

/** Largest memory one check may take, in bytes: bounds what a config can make the gateway spend. */
const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024;

/** The command that prints a hash for a password, named by every error about one. */
export const HASH_PASSWORD_COMMAND = "npm run -s hash-password";

/** A parsed password hash. */
export interface PasswordHash {
  cost: number;
  block: number;
  parallel: number;
  salt: Buffer;
  key: Buffer;
}

const FORMAT = /^scrypt:N=(\d{1,8}),r=(\d{1,3}),p=(\d{1,3}):([A-Za-z0-9_-]{16,}):([A-Za-z0-9_-]{22,})$/;

/** Memory one scrypt check takes with these parameters, in bytes (Node's own bound). */
export const memoryOf = (h: Pick<PasswordHash, "cost" | "block" | "parallel">) => 128 * h.cost * h.block + 128 * h.block * h.parallel;

/** Why `stored` is not a usable password hash, or undefined when it is. */
export function passwordHashProblem(stored: string): string | undefined {
  if (!stored.startsWith("scrypt:")) {
    return `must be a password hash (scrypt:…), never the password itself: print one with \`${HASH_PASSWORD_COMMAND}\``;
  }
  const h = parsePasswordHash(stored);
  if (!h) return `is not a scrypt hash of the form scrypt:N=<cost>,r=<block>,p=<parallel>:<salt>:<key> (print one with \`${HASH_PASSWORD_COMMAND}\`)`;
  if (h.cost < 2 || (h.cost & (h.cost - 1)) !== 0) return "has a scrypt cost N that is not a power of two";
  if (h.block < 1 || h.parallel < 1) return "has a scrypt r or p below 1";
  if (memoryOf(h) > MAX_SCRYPT_MEMORY) return `asks scrypt for more than ${MAX_SCRYPT_MEMORY / 2 ** 20} MiB per check`;
  return undefined;
}

/** The parts of a `scrypt:` hash; undefined when it is malformed. */
export function parsePasswordHash(stored: string): PasswordHash | undefined {
  const m = FORMAT.exec(stored);
  if (!m) return undefined;
  return { cost: Number(m[1]), block: Number(m[2]), parallel: Number(m[3]), salt: Buffer.from(m[4]!, "base64url"), key: Buffer.from(m[5]!, "base64url") };
}

