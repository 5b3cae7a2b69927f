/** The bus's known events: the schemas natsgate ships, keyed by subject pattern. */
import type { z } from "zod";
import { nodeAdded, nodeScaled, podCrashloop } from "./cluster.js";
import { deployRequest, deploymentStatus } from "./deploy.js";
import { imageUploaded } from "./image.js";
import { transferCompleted, transferError } from "./transfer.js";

/** Schemas shipped with natsgate, keyed by subject pattern. */
export const builtinSchemas: Record<string, z.ZodType> = {
  "transfer.completed": transferCompleted,
  "transfer.error": transferError,
  "image.uploaded": imageUploaded,
  "deployment.status": deploymentStatus,
  "deploy.request": deployRequest,
  "cluster.*.nodeAdded": nodeAdded,
  "node.scaled": nodeScaled,
  "pod.crashloop": podCrashloop,
};
