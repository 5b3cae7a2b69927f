/** The Hono environment: values middleware puts on the context, typed once. */
import type { Principal } from "../security/auth.js";

/** What a handler tells the audit middleware about the request it served. */
export interface AuditNote {
  subject?: string;
  msgId?: string;
  stream?: string;
  seq?: number;
  resource?: string;
}

/** Hono `Env` for every natsgate route. */
export type AppEnv = {
  Variables: {
    principal: Principal;
    /** Client address (X-Forwarded-For only with `server.trustProxy`). */
    remote: string | undefined;
    audit: AuditNote | undefined;
  };
};
