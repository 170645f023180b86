/**
 * @module ratelimit/limiter: the admission decision the tenant's Durable Object (tenants/) makes
 * for every keyed request: the token bucket, the daily quota and, under leased admission, tokens
 * handed to the isolate to spend within LEASE_MS (never more than the bucket holds; unspent ones
 * come back when the lease ends, or with the next call). The bucket lives in the object's SQLite.
 */
import type { Schema } from "../storage/migrations";
import { LEASE_MAX_TOKENS, LEASE_MS, type Policy } from "./policy";
import { takeToken } from "./token-bucket";
import { acceptedOn, countUsage, uncountAccepted, type UsageColumn } from "./usage";

/** Rate-limit figures for the response headers. */
export interface Limits {
  limit: number;
  remaining: number;
  resetSeconds: number;
}

/** Tokens beyond this request's, for the isolate to spend without asking again (leased admission). */
export interface Lease {
  tokens: number;
  ttlMs: number;
}

/** The answer to `admit`. */
export type Admission =
  /** `granted` (1 when absent) of the `need` requests the call was made for pass; the rest ask again. */
  | ({ outcome: "allowed"; granted?: number; lease?: Lease } & Limits)
  | ({ outcome: "rate_limited"; retryAfterSeconds: number } & Limits)
  | ({ outcome: "quota_exceeded"; retryAfterSeconds: number; quota: number } & Limits)
  | { outcome: "unknown_tenant" | "unknown_key" | "revoked_key" | "expired_key" | "model_forbidden" };

/** The bucket table; version 1 is the schema from before versioning. */
export const BUCKET_SCHEMA: Schema = {
  name: "bucket",
  migrations: [`CREATE TABLE IF NOT EXISTS bucket (id INTEGER PRIMARY KEY CHECK (id = 1), tokens REAL NOT NULL, at_ms INTEGER NOT NULL)`],
};

/** One call's requests, from a key of a tenant that exists. */
export interface AdmitRequest {
  nowMs: number;
  today: string;
  policy: Policy;
  /** What the key's record says of it now (tenants/keys). */
  key: "active" | "revoked_key" | "expired_key";
  model: string | null;
  /** Extra tokens a leased isolate would like (its recent demand). */
  want: number;
  /** Requests waiting on this call, at least 1. */
  need: number;
}

const secondsToMidnight = (ms: number) => Math.ceil((Date.UTC(...utcTomorrow(ms)) - ms) / 1000);
function utcTomorrow(ms: number): [number, number, number] {
  const d = new Date(ms);
  return [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1];
}

/**
 * Checks the key and model, then takes a token for each of the `need` requests waiting on this
 * call that the bucket holds, counting them against today's quota; a refusal counts all `need`.
 */
export function admit(sql: SqlStorage, { nowMs, today, policy, key, model, want, need: n }: AdmitRequest): Admission {
  const count = <A extends Admission>(column: UsageColumn, admission: A, requests = n): A => {
    countUsage(sql, today, column, requests);
    return admission;
  };
  if (key !== "active") return count("rejected_forbidden", { outcome: key });
  if (model !== null && policy.models !== "*" && !policy.models.includes(model)) {
    return count("rejected_forbidden", { outcome: "model_forbidden" });
  }
  const bucket = sql.exec<{ tokens: number; at_ms: number }>("SELECT tokens, at_ms FROM bucket WHERE id = 1").toArray()[0];
  const state = bucket ? { tokens: bucket.tokens, atMs: bucket.at_ms } : { tokens: policy.burst, atMs: nowMs };
  const used = acceptedOn(sql, today);
  const quotaLeft = policy.daily_quota === null ? Infinity : policy.daily_quota - used;
  const take = takeToken(state, policy.burst, policy.requests_per_minute, nowMs, quotaLeft > 0);
  sql.exec("INSERT OR REPLACE INTO bucket (id, tokens, at_ms) VALUES (1, ?, ?)", take.state.tokens, take.state.atMs);
  const limits = { limit: policy.burst, remaining: take.remaining, resetSeconds: take.resetSeconds };
  if (quotaLeft <= 0) {
    return count("rejected_quota", { outcome: "quota_exceeded", quota: policy.daily_quota!, retryAfterSeconds: secondsToMidnight(nowMs), ...limits });
  }
  if (!take.allowed) return count("rejected_rate_limit", { outcome: "rate_limited", retryAfterSeconds: take.retryAfterSeconds, ...limits });
  // The other requests waiting on this call, as far as the bucket and quota go: they are served
  // at once, so they are taken whatever the admission.
  const more = Math.max(0, Math.min(n - 1, Math.floor(take.state.tokens), quotaLeft - 1));
  // Leased: hand out a few more tokens for later requests (counted as accepted now; unspent ones come back).
  const extra =
    policy.admission !== "leased"
      ? 0
      : Math.max(0, Math.min(Math.floor(want), LEASE_MAX_TOKENS, Math.floor(policy.burst / 10), Math.floor(take.state.tokens) - more, quotaLeft - 1 - more));
  if (more + extra > 0) sql.exec("UPDATE bucket SET tokens = tokens - ? WHERE id = 1", more + extra);
  const allowed = {
    outcome: "allowed" as const,
    ...limits,
    remaining: limits.remaining - more - extra,
    ...(more > 0 ? { granted: 1 + more } : {}),
    ...(extra > 0 ? { lease: { tokens: extra, ttlMs: LEASE_MS } } : {}),
  };
  return count("accepted", allowed, 1 + more + extra);
}

/** Takes back tokens an isolate leased but did not spend: into the bucket, out of today's count. */
export function refund(sql: SqlStorage, policy: Policy, today: string, tokens: number): void {
  sql.exec("UPDATE bucket SET tokens = MIN(?, tokens + ?) WHERE id = 1", policy.burst, tokens);
  uncountAccepted(sql, today, tokens);
}

/** Caps the bucket at a new burst, so a smaller burst takes effect at once. */
export function capBucket(sql: SqlStorage, burst: number): void {
  sql.exec("UPDATE bucket SET tokens = MIN(tokens, ?) WHERE id = 1", burst);
}
