/** Image transfer events, published by the transfer service. */
import { z } from "zod";
import { bytes, id, timestamp } from "./common.js";

/** `transfer.completed`: an image transfer finished successfully. */
export const transferCompleted = z
  .looseObject({
    transferId: id().describe("Transfer identifier, stable across retries"),
    imageId: id().describe("The image that was transferred"),
    source: z.string().min(1).describe("Where the image came from (registry, bucket or URL)"),
    destination: z.string().min(1).describe("Where the image was written"),
    sizeBytes: bytes().describe("Bytes transferred"),
    durationMs: z.number().nonnegative().describe("Wall-clock duration of the transfer"),
    checksum: z
      .string()
      .regex(/^sha256:[0-9a-f]{64}$/, "expected sha256:<64 hex digits>")
      .optional()
      .describe("Digest of the transferred bytes"),
    completedAt: timestamp().describe("When the transfer completed"),
  })
  .describe("An image transfer finished successfully");

/** `transfer.error`: an image transfer failed. */
export const transferError = z
  .looseObject({
    transferId: id().describe("Transfer identifier, stable across retries"),
    imageId: id().optional().describe("The image being transferred, when known"),
    error: z
      .strictObject({
        code: z.string().min(1).describe("Machine-readable error code, e.g. ETIMEDOUT"),
        message: z.string().min(1).describe("Human-readable description"),
      })
      .describe("What went wrong"),
    retryable: z.boolean().describe("Whether the transfer service will retry"),
    attempt: z.number().int().positive().default(1).describe("Attempt number, from 1"),
    failedAt: timestamp().describe("When the transfer failed"),
  })
  .describe("An image transfer failed");
