/**
 * Slack message templates: `{{path.to.value}}` placeholders looked up in the
 * event envelope. No expressions, no code: a placeholder is a dotted path and
 * nothing else. Substituted values are escaped for Slack's mrkdwn (`&`, `<`,
 * `>`), so event data cannot inject links or mentions; the template's own text
 * is kept as written.
 */

const PLACEHOLDER = /\{\{\s*([A-Za-z0-9_$-]+(?:\.[A-Za-z0-9_$-]+)*)\s*\}\}/g;

/** Escapes the three characters Slack treats as markup. */
export function slackEscape(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function lookup(root: unknown, path: string): unknown {
  let value = root;
  for (const key of path.split(".")) {
    if (value === null || typeof value !== "object") return undefined;
    // Own properties only: `{{constructor}}` or `{{__proto__}}` must not reach prototypes.
    if (!Object.prototype.hasOwnProperty.call(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function show(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  return JSON.stringify(value);
}

/** Replaces every placeholder in `text` with the escaped value at its path in `context`. */
export function renderText(text: string, context: unknown): string {
  return text.replace(PLACEHOLDER, (_, path: string) => slackEscape(show(lookup(context, path))));
}

/** Renders every string inside a JSON value (Slack `blocks`). */
export function renderDeep(value: unknown, context: unknown): unknown {
  if (typeof value === "string") return renderText(value, context);
  if (Array.isArray(value)) return value.map((v) => renderDeep(v, context));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderDeep(v, context)]));
  }
  return value;
}

/** Template used when a Slack webhook has none. */
export const DEFAULT_SLACK_TEXT = "*{{subject}}*: {{data}}";

/** The Slack message for an envelope. */
export function slackMessage(template: string | { text: string; blocks?: unknown[] } | undefined, envelope: unknown): Record<string, unknown> {
  const t = typeof template === "string" ? { text: template } : template ?? { text: DEFAULT_SLACK_TEXT };
  const message: Record<string, unknown> = { text: renderText(t.text, envelope) };
  if (t.blocks) message.blocks = renderDeep(t.blocks, envelope);
  return message;
}
