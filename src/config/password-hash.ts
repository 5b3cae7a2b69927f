/**
 * The stored form of a client password (`auth.clients[].password`), checked
 * when the config is read: `scrypt:N=<cost>,r=<block>,p=<parallel>:<salt>:<key>`,
 * salt and key in base64url. Hashing and verifying live in `security/passwords.ts`.
 */

/** Largest memory one check may take, in bytes: bounds what a config can make the gateway spend. */
const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024;

/** Control characters, which RFC 7617 excludes from user names and passwords: no client could send them. */
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

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

// Salt and key: 12 to 48 bytes of base64url. Longer buys nothing and costs every check.
const FORMAT = /^scrypt:N=(\d{1,8}),r=(\d{1,3}),p=(\d{1,3}):([A-Za-z0-9_-]{16,64}):([A-Za-z0-9_-]{16,64})$/;
/** Weakest scrypt cost accepted: 2^10 (tests use it; the default is 2^14). */
export const MIN_SCRYPT_COST = 1024;
/** Most parallelism accepted: p multiplies the CPU of every check, unknown users' included. */
const MAX_PARALLEL = 16;
/** Largest block size accepted. */
const MAX_BLOCK = 32;

/** Memory one scrypt check takes with these parameters, in bytes (Node's own bound). */
export const memoryOf = (h: Pick<PasswordHash, "cost" | "block" | "parallel">) => 128 * h.cost * h.block + 128 * h.block * h.parallel;

/** Why `stored` is not a usable password hash, or undefined when it is. */
export function passwordHashProblem(stored: string): string | undefined {
  if (!stored.startsWith("scrypt:")) {
    return `must be a password hash (scrypt:…), never the password itself: print one with \`${HASH_PASSWORD_COMMAND}\``;
  }
  const h = parsePasswordHash(stored);
  if (!h) return `is not a scrypt hash of the form scrypt:N=<cost>,r=<block>,p=<parallel>:<salt>:<key> (print one with \`${HASH_PASSWORD_COMMAND}\`)`;
  if ((h.cost & (h.cost - 1)) !== 0 || h.cost < MIN_SCRYPT_COST) return `has a scrypt cost N that is not a power of two of at least ${MIN_SCRYPT_COST}`;
  if (h.block < 1 || h.block > MAX_BLOCK || h.parallel < 1 || h.parallel > MAX_PARALLEL) return `has a scrypt r outside 1-${MAX_BLOCK} or p outside 1-${MAX_PARALLEL}`;
  if (memoryOf(h) > MAX_SCRYPT_MEMORY) return `asks scrypt for more than ${MAX_SCRYPT_MEMORY / 2 ** 20} MiB per check`;
  return undefined;
}

/** The parts of a `scrypt:` hash; undefined when it is malformed. */
export function parsePasswordHash(stored: string): PasswordHash | undefined {
  const m = FORMAT.exec(stored);
  if (!m) return undefined;
  return { cost: Number(m[1]), block: Number(m[2]), parallel: Number(m[3]), salt: Buffer.from(m[4]!, "base64url"), key: Buffer.from(m[5]!, "base64url") };
}

/** Why `password` cannot be one a client signs in with (RFC 7617 refuses control characters), or undefined. */
export function passwordProblem(password: string): string | undefined {
  if (password.length === 0) return "an empty password is refused";
  if (CONTROL_CHARACTERS.test(password)) return "a password may not hold control characters (tab, newline, …): no client could send it";
  return undefined;
}
