/** Admin-API helpers for webhook tests against a test gateway. */
import { expect } from "vitest";
import type { TestGateway } from "./gateway.js";

/** Webhook calls bound to a gateway (resolved lazily, since fixtures start in beforeAll). */
export function webhookApi(gw: () => TestGateway) {
  return {
    /** POSTs a webhook and expects 201; returns the stored webhook. */
    async create(body: Record<string, unknown>) {
      const res = await gw().fetch("/v1/webhooks", { method: "POST", body: JSON.stringify(body), headers: { "content-type": "application/json" } });
      expect(res.status, await res.clone().text()).toBe(201);
      return res.json();
    },
    /** The dead letters of one webhook, oldest first. */
    async deadLetters(id: string): Promise<any[]> {
      return (await (await gw().fetch(`/v1/dead-letters?webhook=${id}`)).json()).deadLetters;
    },
  };
}
