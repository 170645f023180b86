/** @module http/key-request: the body of POST /admin/tenants/{tenant}/keys. */
import { z } from "zod";

export const KeyRequestSchema = z
  .object({
    name: z.string().min(1).max(100).optional(),
    expires_at: z.iso.datetime({ offset: true }).optional(),
    expires_in_seconds: z.number().int().min(1).max(10 * 365 * 86400).optional(),
  })
  .strict()
  .refine((b) => !(b.expires_at && b.expires_in_seconds), "give expires_at or expires_in_seconds, not both");
