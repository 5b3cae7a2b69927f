/** Image events, published by the portal back end. */
import { z } from "zod";
import { bytes, id, timestamp } from "./common.js";

/** `image.uploaded`: a user uploaded an image. */
export const imageUploaded = z
  .looseObject({
    imageId: id().describe("Image identifier"),
    name: z.string().min(1).max(255).describe("File or image name as uploaded"),
    sizeBytes: bytes().describe("Size of the upload"),
    contentType: z.string().min(1).optional().describe("Media type of the upload"),
    digest: z
      .string()
      .regex(/^sha256:[0-9a-f]{64}$/, "expected sha256:<64 hex digits>")
      .describe("Content digest"),
    uploadedBy: id().describe("User or service that uploaded it"),
    uploadedAt: timestamp().describe("When the upload completed"),
  })
  .describe("An image was uploaded");
