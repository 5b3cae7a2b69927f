/** Deployment commands and their status, between the orbit plane and cluster agents. */
import { z } from "zod";
import { id, k8sName, timestamp } from "./common.js";

/** Deployment lifecycle states reported by cluster agents. */
export const deploymentStates = ["pending", "in_progress", "succeeded", "failed", "rolled_back"] as const;

/** `deploy.request`: the portal asks a cluster to deploy a manifest. */
export const deployRequest = z
  .looseObject({
    deploymentId: id().describe("Deployment identifier chosen by the requester"),
    cluster: k8sName().describe("Target cluster"),
    namespace: k8sName().default("default").describe("Target namespace"),
    manifest: z.string().min(1).describe("Manifest reference (URL, digest or name@version)"),
    version: z.string().min(1).optional().describe("Application version being deployed"),
    requestedBy: id().describe("User or service asking for the deployment"),
    requestedAt: timestamp().describe("When the request was made"),
  })
  .describe("A request to deploy a manifest to a cluster");

/** `deployment.status`: progress of a deployment, reported by the cluster agent. */
export const deploymentStatus = z
  .looseObject({
    deploymentId: id().describe("The deployment this status belongs to"),
    cluster: k8sName().describe("Cluster running the deployment"),
    status: z.enum(deploymentStates).describe("Current state"),
    message: z.string().max(4096).optional().describe("Detail for humans"),
    progress: z.number().min(0).max(100).optional().describe("Percent complete"),
    updatedAt: timestamp().describe("When this state was reached"),
  })
  .describe("Progress of a deployment");
