/** Operational events from cluster-plane agents. */
import { z } from "zod";
import { k8sName, timestamp } from "./common.js";

/** `cluster.*.nodeAdded`: a node joined a cluster (the cluster name is the middle token). */
export const nodeAdded = z
  .looseObject({
    cluster: k8sName().describe("Cluster the node joined"),
    node: z
      .looseObject({
        name: k8sName().describe("Node name"),
        instanceType: z.string().min(1).optional().describe("Machine type, e.g. m6i.large"),
        zone: z.string().min(1).optional().describe("Availability zone"),
        cpu: z.number().positive().optional().describe("Allocatable CPU cores"),
        memoryBytes: z.number().int().positive().optional().describe("Allocatable memory"),
      })
      .describe("The node that was added"),
    addedAt: timestamp().describe("When the node became ready"),
  })
  .describe("A node joined a cluster");

/** `node.scaled`: a node pool was scaled. */
export const nodeScaled = z
  .looseObject({
    cluster: k8sName().describe("Cluster whose pool was scaled"),
    nodePool: k8sName().describe("Node pool or group"),
    from: z.number().int().nonnegative().describe("Node count before"),
    to: z.number().int().nonnegative().describe("Node count after"),
    reason: z.string().max(1024).optional().describe("Why (autoscaler, manual, schedule)"),
    scaledAt: timestamp().describe("When scaling completed"),
  })
  .describe("A node pool changed size");

/** `pod.crashloop`: a pod is in CrashLoopBackOff. */
export const podCrashloop = z
  .looseObject({
    cluster: k8sName().describe("Cluster of the pod"),
    namespace: k8sName().describe("Namespace of the pod"),
    pod: k8sName().describe("Pod name"),
    container: k8sName().optional().describe("Container that keeps failing"),
    restarts: z.number().int().nonnegative().describe("Restart count so far"),
    exitCode: z.number().int().optional().describe("Last exit code"),
    reason: z.string().max(1024).optional().describe("Last termination reason, e.g. OOMKilled"),
    detectedAt: timestamp().describe("When the crash loop was detected"),
  })
  .describe("A pod is crash-looping");
