/** @module ratelimit/policy: what a tenant may do: its rate, burst, daily quota and models. */
import { z } from "zod";
import { MODEL_NAME } from "../serving/names";

/** The body of PUT /admin/tenants/{tenant}. */
export const PolicySchema = z
  .object({
    requests_per_minute: z.number().int().min(1).max(1_000_000),
    /** Bucket size: how many requests may arrive at once. Defaults to requests_per_minute. */
    burst: z.number().int().min(1).max(1_000_000).optional(),
    /** Accepted requests per UTC day; null or absent for none. */
    daily_quota: z.number().int().min(1).max(1_000_000_000).nullable().optional(),
    /** The models the tenant may call: "*" for all, or a list of names. */
    models: z.union([z.literal("*"), z.array(z.string().regex(MODEL_NAME, "not a valid model name")).max(1000)]).optional(),
    /**
     * "leased" (the default): an isolate may take a few tokens at once and spend them locally for
     * up to LEASE_MS, so most requests skip the round trip to the tenant's object, which at the
     * edge is often in another region; never more requests pass than the bucket holds, but
     * revocations and policy changes take up to LEASE_MS to reach an isolate holding a lease.
     * "exact": every request is decided by an ask of the tenant's object made after it arrived
     * (requests that arrive together at an isolate share one).
     */
    admission: z.enum(["exact", "leased"]).optional(),
  })
  .strict();

/** A tenant's policy, with defaults filled in. */
export interface Policy {
  requests_per_minute: number;
  burst: number;
  daily_quota: number | null;
  models: "*" | string[];
  admission: "exact" | "leased";
}

/** How long an isolate may spend leased tokens without asking the tenant's object again. */
export const LEASE_MS = 1000;
/** Extra tokens an isolate asks for in its first lease of a key and model. */
export const LEASE_FIRST_TOKENS = 32;
/**
 * Most extra tokens one lease carries (also at most a tenth of the bucket). An isolate that spends
 * a whole lease before it ends asks for twice as many next time, up to this; one that lets a
 * lease end with tokens unspent asks next for what it spent.
 */
export const LEASE_MAX_TOKENS = 1024;

/** Fills the defaults of a validated policy body. */
export function normalisePolicy(body: z.infer<typeof PolicySchema>): Policy {
  return {
    requests_per_minute: body.requests_per_minute,
    burst: body.burst ?? body.requests_per_minute,
    daily_quota: body.daily_quota ?? null,
    models: body.models ?? "*",
    admission: body.admission ?? "leased",
  };
}

/** Tenant names: like model names, they appear in URLs and Durable Object names. */
export const TENANT_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
