/**
 * What to do after a delivery attempt: the retry policy of DESIGN.md as a pure
 * function. 2xx succeeds; 408, 429, 5xx, timeouts and network errors retry on
 * the schedule (never sooner than `Retry-After`); 410 disables the webhook;
 * anything else — other 4xx, redirects, refused destinations — and exhausted
 * retries go to the dead letters.
 */
import type { AttemptResult } from "./http-send.js";

/** Jitter added to each scheduled delay, as a fraction of it (upwards only, so `Retry-After` holds). */
export const RETRY_JITTER = 0.1;

/** Slack's answers that no retry can fix. */
const SLACK_PERMANENT = new Set([
  "invalid_payload",
  "channel_not_found",
  "action_prohibited",
  "no_service",
  "no_service_id",
  "no_team",
  "team_disabled",
  "invalid_token",
  "user_not_found",
  "posting_to_general_channel_denied",
]);

/** The decision for one attempt. */
export type Outcome =
  | { kind: "delivered" }
  | { kind: "retry"; delayMs: number; reason: string }
  | { kind: "dead"; reason: string }
  | { kind: "disable"; reason: string };

/** What the policy needs to know about the webhook. */
export interface PolicyInput {
  format: "json" | "slack" | "cloudevents";
  schedule: readonly number[];
}

/** One line describing an attempt's failure, for logs, delivery records and dead letters. */
export function describeAttempt(r: AttemptResult): string {
  if (r.status !== undefined) return `HTTP ${r.status}` + (r.excerpt ? `: ${r.excerpt.slice(0, 120)}` : "");
  return r.message ?? r.error ?? "unknown failure";
}

/**
 * Decides after attempt number `attempt` (1-based). `random` in [0, 1) spreads
 * retries of many events that failed together.
 */
export function decide(r: AttemptResult, hook: PolicyInput, attempt: number, random: number): Outcome {
  const status = r.status;
  if (status !== undefined && status >= 200 && status < 300) return { kind: "delivered" };
  if (hook.format === "slack" && r.excerpt) {
    const code = r.excerpt.trim();
    if (code === "channel_is_archived") return { kind: "disable", reason: "Slack answered channel_is_archived" };
    if (SLACK_PERMANENT.has(code)) return { kind: "dead", reason: `Slack answered ${code}` };
  }
  if (status === 410) return { kind: "disable", reason: "the destination answered 410 Gone" };
  // Neither an SSRF refusal nor a request Node will not make gets better by retrying.
  if (r.error === "refused" || r.error === "invalid") return { kind: "dead", reason: r.message ?? "destination refused" };
  const retryable = status === undefined || status === 408 || status === 429 || status >= 500;
  if (!retryable) {
    const why = status >= 300 && status < 400 ? `HTTP ${status} (redirects are not followed)` : `HTTP ${status}`;
    return { kind: "dead", reason: why };
  }
  if (attempt > hook.schedule.length) {
    return { kind: "dead", reason: `retries exhausted after ${attempt} attempts; last: ${describeAttempt(r)}` };
  }
  const scheduled = Math.round(hook.schedule[attempt - 1]! * (1 + RETRY_JITTER * random));
  const delayMs = Math.max(scheduled, r.retryAfterMs ?? 0);
  return { kind: "retry", delayMs, reason: describeAttempt(r) };
}
