/** The Hono environment: values middleware puts on the context, typed once. */
import type { Context as TraceContext } from "@opentelemetry/api";
import type { Principal } from "../security/auth.js";

/** What a handler tells the audit middleware about the request it served. */
export interface AuditNote {
  subject?: string;
  msgId?: string;
  stream?: string;
  seq?: number;
  resource?: string;
}

/**
 * Hono `Env` for every natsgate route. Read values with `c.get(name)`, not `c.var`:
 * Hono builds `c.var` afresh from its Map on every access (9 % of publish CPU in a profile).
 */
export type AppEnv = {
  Variables: {
    principal: Principal;
    /** Client address (X-Forwarded-For only with `server.trustProxy`). */
    remote: string | undefined;
    audit: AuditNote | undefined;
    /** The request's trace context: its SERVER span, child of the caller's traceparent. */
    trace: TraceContext;
    /** The caller's X-Request-Id when it is a sane token, else one made up; echoed in the response. */
    requestId: string;
  };
};
