/**
 * Client passwords, stored only as salted scrypt hashes (Node's `crypto.scrypt`,
 * also in Workers' nodejs_compat): `scrypt:N=<cost>,r=<block>,p=<parallel>:<salt>:<key>`
 * with salt and key in base64url. The parameters travel with each hash, so a
 * stronger cost can be chosen per client without a format change.
 */
import { randomBytes, scrypt, timingSafeEqual } from "node:crypto";
import { memoryOf, passwordHashProblem, passwordProblem, type PasswordHash } from "../config/password-hash.js";

export { CONTROL_CHARACTERS, HASH_PASSWORD_COMMAND, MIN_SCRYPT_COST, parsePasswordHash, passwordHashProblem, passwordProblem, type PasswordHash } from "../config/password-hash.js";

/** scrypt cost Node uses by default: 2^14, with r=8 about 16 MiB and tens of ms per check. */
export const DEFAULT_SCRYPT_COST = 16_384;
/** scrypt block size. */
export const DEFAULT_SCRYPT_BLOCK = 8;
/** scrypt parallelism. */
export const DEFAULT_SCRYPT_PARALLEL = 1;
/** Salt length, in bytes. */
const SALT_BYTES = 16;
/** Derived key length, in bytes. */
const KEY_BYTES = 32;

function derive(password: string, h: Pick<PasswordHash, "cost" | "block" | "parallel" | "salt">, length: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize("NFC"), h.salt, length, { N: h.cost, r: h.block, p: h.parallel, maxmem: memoryOf(h) + 1024 * 1024 }, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

/** Options for `hashPassword`. */
export interface HashOptions {
  cost?: number;
  block?: number;
  parallel?: number;
}

/** A new salted hash of `password`, in the stored form. */
export async function hashPassword(password: string, { cost = DEFAULT_SCRYPT_COST, block = DEFAULT_SCRYPT_BLOCK, parallel = DEFAULT_SCRYPT_PARALLEL }: HashOptions = {}): Promise<string> {
  const refused = passwordProblem(password);
  if (refused) throw new RangeError(refused);
  const salt = randomBytes(SALT_BYTES);
  // Parameters are checked before scrypt runs: a huge N would take its memory first.
  const placeholder = Buffer.alloc(KEY_BYTES).toString("base64url");
  const problem = passwordHashProblem(`scrypt:N=${cost},r=${block},p=${parallel}:${salt.toString("base64url")}:${placeholder}`);
  if (problem) throw new RangeError(`the hash ${problem}`);
  const key = await derive(password, { cost, block, parallel, salt }, KEY_BYTES);
  return `scrypt:N=${cost},r=${block},p=${parallel}:${salt.toString("base64url")}:${key.toString("base64url")}`;
}

/**
 * True when `password` matches `hash`. The comparison is constant-time; the
 * derivation runs on libuv's thread pool, off the event loop. Passwords are
 * compared in Unicode NFC, so a password typed on another system's keyboard
 * layout (composed or decomposed accents) still matches.
 */
export async function verifyPassword(password: string, hash: PasswordHash): Promise<boolean> {
  const key = await derive(password, hash, hash.key.length);
  return timingSafeEqual(key, hash.key);
}
