/** Building blocks shared by the event schemas. */
import { z } from "zod";

/** An RFC 3339 timestamp with a zone offset, e.g. 2026-11-24T20:19:03Z. */
export const timestamp = () => z.iso.datetime({ offset: true });

/** An opaque identifier: 1–128 printable characters, no whitespace. */
export const id = () => z.string().regex(/^\S{1,128}$/, "expected an id of 1-128 characters without whitespace");

/** A Kubernetes-style name (cluster, namespace, pod, node): DNS-1123 label/subdomain. */
export const k8sName = () =>
  z
    .string()
    .min(1)
    .max(253)
    .regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, "expected a lowercase DNS-1123 name");

/** A byte count. */
export const bytes = () => z.number().int().nonnegative();
