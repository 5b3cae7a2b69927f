/**
 * Decentralized (operator mode) NATS auth for creds-file tests: an operator,
 * one account with JetStream enabled, and a user whose .creds file the gateway
 * uses. Keys are generated fresh per test run.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { encodeAccount, encodeOperator, encodeUser, fmtCreds } from "@nats-io/jwt";
import { createAccount, createOperator, createUser } from "@nats-io/nkeys";

/** Server config text plus the path of a user's creds file. */
export interface OperatorSetup {
  serverConfig: string;
  credsFile: string;
}

/** Writes `user.creds` into `dir` and returns the matching server config. */
export async function createOperatorSetup(dir: string): Promise<OperatorSetup> {
  const operator = createOperator();
  const account = createAccount();
  // JetStream needs a system account in operator mode.
  const system = createAccount();
  const user = createUser();
  const operatorJwt = await encodeOperator("natsgate-test-operator", operator);
  const accountJwt = await encodeAccount("APP", account, {
    // Unset limits would be 0 (nothing allowed); -1 is unlimited.
    limits: {
      conn: -1, subs: -1, data: -1, payload: -1, imports: -1, exports: -1, leaf: -1, wildcards: true,
      mem_storage: -1, disk_storage: -1, streams: -1, consumer: -1,
    },
  }, { signer: operator });
  const systemJwt = await encodeAccount("SYS", system, {}, { signer: operator });
  const userJwt = await encodeUser("gateway", user, account);
  const credsFile = join(dir, "user.creds");
  writeFileSync(credsFile, fmtCreds(userJwt, user));
  const serverConfig = [
    `operator: ${operatorJwt}`,
    `system_account: ${system.getPublicKey()}`,
    "resolver: MEMORY",
    `resolver_preload: { ${account.getPublicKey()}: ${accountJwt}, ${system.getPublicKey()}: ${systemJwt} }`,
  ].join("\n");
  return { serverConfig, credsFile };
}
