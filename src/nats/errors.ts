/**
 * The boundary where nats.js failures become gateway errors. Callers elsewhere
 * only ever see `GatewayError` subclasses; no other module inspects NATS
 * errors or their messages.
 */
import { errors as natsErrors } from "@nats-io/nats-core";
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import {
  AckTimeoutError,
  ForbiddenError,
  GatewayError,
  InvalidSubjectError,
  NatsUnavailableError,
  NoRespondersError,
  PayloadTooLargeError,
  HeadersTooLargeError,
  PreconditionFailedError,
  RequestTimeoutError,
  StreamMismatchError,
  UpstreamError,
} from "../errors.js";

/**
 * JetStream API error codes the gateway maps to specific statuses: nats.js's
 * own constants where it has them, the server's numbers (nats-server's
 * errors.json) for the two it does not name.
 */
export const JS_CODES = {
  streamNotMatch: 10060, // JSStreamNotMatchErr: Expect-Stream names another stream
  wrongLastSequence: JetStreamApiCodes.StreamWrongLastSequence,
  wrongLastSequenceUnknown: JetStreamApiCodes.StreamWrongLastSequenceUnknown,
  messageTooLarge: 10054, // JSStreamMessageExceedsMaximumErr
  headerTooLarge: 10097, // JSStreamHeaderExceedsMaximumErr: over 64 KiB of headers
  streamNotFound: JetStreamApiCodes.StreamNotFound,
  consumerNotFound: JetStreamApiCodes.ConsumerNotFound,
} as const;

/** True when the error says JetStream is not enabled for the connection's account. */
export function isJetStreamUnavailable(err: unknown): boolean {
  // @nats-io/jetstream does not export JetStreamNotEnabled; its name is part of its API.
  return (err instanceof Error && err.name === "JetStreamNotEnabled") || (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.JetStreamNotEnabledForAccount);
}

/** JetStream's "system temporarily unavailable": a cluster without a meta leader for now. */
const JS_CLUSTER_NOT_AVAILABLE = 10008;

/**
 * True for failures a cluster electing leaders gives for a while (no answer in
 * time, nobody answering yet), as opposed to a definite one (JetStream off, a
 * stream that cannot be made).
 */
export function isTransientJetStreamError(err: unknown): boolean {
  if (err instanceof natsErrors.TimeoutError || err instanceof natsErrors.NoRespondersError) return true;
  if (err instanceof natsErrors.RequestError && err.isNoResponders()) return true;
  return err instanceof JetStreamApiError && err.code === JS_CLUSTER_NOT_AVAILABLE;
}

/** What the gateway was doing when the error happened. */
export type NatsOperation = "publish" | "jetstream" | "request";

/** Translates a nats.js error into a `GatewayError`. `connected` is the connection state after the failure. */
export function fromNatsError(
  err: unknown,
  op: NatsOperation,
  subject: string,
  opts: { connected: boolean; maxPayload?: number },
): GatewayError {
  if (err instanceof GatewayError) return err;
  const cause = { cause: err };
  if (!opts.connected) return new NatsUnavailableError("NATS connection lost before the message was confirmed", cause);
  if (err instanceof natsErrors.TimeoutError) {
    return op === "jetstream"
      ? new AckTimeoutError(`no JetStream acknowledgement for ${subject} in time; retry with the same Idempotency-Key`, cause)
      : new RequestTimeoutError(`no reply on ${subject} in time`, cause);
  }
  // A stream's subject with nobody answering: its stream (or JetStream) is not there.
  if (op === "jetstream" && err instanceof natsErrors.NoRespondersError) return new NatsUnavailableError(`no JetStream stream answered for ${subject}`, cause);
  if (err instanceof natsErrors.NoRespondersError) return new NoRespondersError(subject, cause);
  if (err instanceof natsErrors.RequestError && err.isNoResponders()) return new NoRespondersError(subject, cause);
  if (isJetStreamUnavailable(err)) {
    return new NatsUnavailableError(`no JetStream stream answered for ${subject}`, cause);
  }
  if (err instanceof JetStreamApiError) {
    const desc = err.apiError().description;
    switch (err.code) {
      case JS_CODES.streamNotMatch:
        return new StreamMismatchError(`Expect-Stream does not match the stream capturing ${subject} (${desc})`, cause);
      case JS_CODES.wrongLastSequence:
      case JS_CODES.wrongLastSequenceUnknown:
        return new PreconditionFailedError(`Expect-Last-Sequence does not match: ${desc}`, cause);
      case JS_CODES.messageTooLarge:
        return new PayloadTooLargeError(opts.maxPayload ?? 0);
      case JS_CODES.headerTooLarge:
        return new HeadersTooLargeError(`the stream capturing ${subject} takes at most 64 KiB of headers per message`, cause);
      default:
        return new UpstreamError(`JetStream refused the message: ${desc} (code ${err.code})`, cause);
    }
  }
  if (err instanceof natsErrors.PermissionViolationError) {
    return new ForbiddenError(`the gateway's NATS credentials may not ${err.operation} on ${err.subject}`, subject, cause);
  }
  if (err instanceof natsErrors.InvalidSubjectError) return new InvalidSubjectError(subject, "NATS refused it");
  if (
    err instanceof natsErrors.ClosedConnectionError ||
    err instanceof natsErrors.DrainingConnectionError ||
    err instanceof natsErrors.ConnectionError
  ) {
    return new NatsUnavailableError(undefined, cause);
  }
  if (err instanceof natsErrors.InvalidArgumentError && err.message.includes("max_payload")) {
    // nats.js refuses payloads (with headers) over max_payload with an argument error.
    return new PayloadTooLargeError(opts.maxPayload ?? 0);
  }
  return new UpstreamError(`NATS failed: ${err instanceof Error ? err.message : String(err)}`, cause);
}
