/**
 * `@natsgate/client`: publish, batch, request, a resumable SSE subscription and
 * a reconnecting WebSocket for natsgate, on the platform's fetch and WebSocket
 * only (browsers and Node 20+; `socket()` needs a global WebSocket, Node 22+,
 * or one passed in).
 */
export { Client, createClient, DEFAULT_MAX_RETRIES, DEFAULT_MAX_RETRY_DELAY_MS, natsHeaders } from "./client.js";
export type { BatchItem, BatchResult, ClientOptions, PublishOptions, PublishResult, Reply, RequestOptions } from "./client.js";
export { BadRequestError, errorFor, ForbiddenError, ProblemError, problemError, RateLimitedError, retryAfterMs, TokenExpiredError, UnauthorizedError, UnavailableError, ValidationError } from "./problem.js";
export type { Problem, ProblemIssue } from "./problem.js";
export type { Envelope } from "./envelope.js";
export { SseParser, type SseEvent } from "./sse.js";
export { MAX_RETRY_MS, MIN_RETRY_MS } from "./subscribe.js";
export type { Subscription, SubscriptionEvent, SubscriptionStatus, SubscribeOptions } from "./subscribe.js";
export { DEFAULT_MAX_QUEUED, DEFAULT_PING_MS, SocketClosedError } from "./socket.js";
export type { Socket, SocketMessage, SocketOptions, SocketStatus, SocketSubscription } from "./socket.js";
