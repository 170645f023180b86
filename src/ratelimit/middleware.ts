/**
 * @module ratelimit/middleware: asks the caller's tenant object to admit each keyed request (or,
 * for a tenant with leased admission, spends a token the object leased to this isolate), and puts
 * RateLimit-Limit / -Remaining / -Reset on every response to one.
 */
import type { MiddlewareHandler } from "hono";
import { unauthenticated } from "../auth/middleware";
import { timed } from "../monitoring/timings";
import type { AppEnv } from "../env";
import { ServingError } from "../errors";
import type { Admission, Limits } from "./limiter";
import { LEASE_FIRST_TOKENS, LEASE_MAX_TOKENS } from "./policy";

const MODEL_IN_PATH = /^\/v[12]\/models\/([^/:]+)/;

function headersOf(l: Limits): Record<string, string> {
  return { "RateLimit-Limit": String(l.limit), "RateLimit-Remaining": String(l.remaining), "RateLimit-Reset": String(l.resetSeconds) };
}

/** The model a protocol path names, or null (server-level routes). */
function modelInPath(path: string): string | null {
  const raw = MODEL_IN_PATH.exec(path)?.[1];
  if (raw === undefined) return null;
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

class Timeout extends Error {}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: number | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Timeout()), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/** Tokens an isolate holds for one key and model (leased admission), and the limits last seen. */
interface HeldLease {
  tokens: number;
  /** How many the lease brought. */
  granted: number;
  expiresAt: number;
  limits: Limits;
}

const MAX_LEASES = 10_000;
/** Isolate-wide: leases by tenant, key and model. Spent locally; refunded on the next ask. */
const leases = new Map<string, HeldLease>();

/** Spends one leased token, if this isolate holds a live lease; the limits to report, or null. */
function spendLease(id: string, nowMs: number): Limits | null {
  const held = leases.get(id);
  if (!held || held.expiresAt <= nowMs || held.tokens <= 0) return null;
  held.tokens--;
  return { ...held.limits, remaining: held.limits.remaining + held.tokens };
}

/**
 * Ends an expired or spent lease: its unspent tokens, to give back on the next ask, and how many
 * to ask for next. A lease spent before it ended asks for twice as many; one that ended with
 * tokens left asks for what was spent of it. So a busy isolate asks its tenant's object a few
 * times a second at most, and a quiet one holds few tokens.
 */
function endLease(id: string, nowMs: number): { unused: number; want: number } {
  const held = leases.get(id);
  if (!held) return { unused: 0, want: LEASE_FIRST_TOKENS };
  leases.delete(id);
  const spentInTime = held.tokens <= 0 && held.expiresAt > nowMs;
  const want = spentInTime ? Math.min(2 * held.granted, LEASE_MAX_TOKENS) : Math.max(1, held.granted - held.tokens);
  return { unused: Math.max(0, held.tokens), want };
}

function keepLease(id: string, admission: Extract<Admission, { outcome: "allowed" }>, nowMs: number): void {
  if (!admission.lease) return;
  if (leases.size >= MAX_LEASES) leases.delete(leases.keys().next().value!);
  const held = leases.get(id);
  const limits = { limit: admission.limit, remaining: admission.remaining, resetSeconds: admission.resetSeconds };
  // Two asks that overlapped both brought tokens: keep them all.
  leases.set(id, { tokens: (held?.tokens ?? 0) + admission.lease.tokens, granted: (held?.granted ?? 0) + admission.lease.tokens, expiresAt: nowMs + admission.lease.ttlMs, limits });
}

/** Admits the request against the caller's tenant (set by apiKeyAuth), or refuses it. */
export function rateLimit(): MiddlewareHandler<AppEnv> {
  return async function rateLimitHandler(c, next) {
    const caller = c.get("caller");
    if (!caller) throw new ServingError("internal", "rate limit without an authenticated caller");
    const model = modelInPath(c.req.path);
    const leaseId = `${caller.tenant}\u0000${caller.keyId}\u0000${model ?? ""}`;
    const leased = spendLease(leaseId, Date.now());
    if (leased) {
      await next();
      for (const [name, value] of Object.entries(headersOf(leased))) c.res.headers.set(name, value);
      return;
    }
    const { unused, want } = endLease(leaseId, Date.now());
    const stub = c.env.TENANTS.get(c.env.TENANTS.idFromName(caller.tenant));
    let admission: Admission;
    try {
      const call = stub.admit(caller.keyId, model, unused, want) as unknown as Promise<Admission>;
      admission = await timed(c.get("timings"), "ratelimit", withTimeout(call, Number(c.env.RATE_LIMIT_TIMEOUT_MS) || 2000));
    } catch (e) {
      if (c.env.RATE_LIMIT_FAILURE_MODE === "open") {
        console.warn(JSON.stringify({ level: "warn", event: "rate_limiter_unreachable", tenant: caller.tenant, failure_mode: "open", timeout: e instanceof Timeout }));
        return next();
      }
      throw new ServingError("unavailable", "the rate limiter is unreachable; retry shortly", { cause: e, headers: { "Retry-After": "1" } });
    }
    switch (admission.outcome) {
      case "unknown_tenant":
      case "unknown_key":
        throw unauthenticated("unknown API key");
      case "revoked_key":
        throw unauthenticated("API key has been revoked");
      case "expired_key":
        throw unauthenticated("API key has expired");
      case "model_forbidden":
        // Same answer as a model that does not exist: a tenant learns nothing of others' models.
        throw new ServingError("not_found", `model '${model}' not found`);
      case "rate_limited":
        throw new ServingError("rate_limited", `rate limit exceeded: the tenant's bucket of ${admission.limit} requests is empty; retry in ${admission.retryAfterSeconds} s`, {
          headers: { ...headersOf(admission), "Retry-After": String(admission.retryAfterSeconds) },
        });
      case "quota_exceeded":
        throw new ServingError("rate_limited", `daily quota of ${admission.quota} requests exhausted; it resets at 00:00 UTC, in ${admission.retryAfterSeconds} s`, {
          headers: { ...headersOf(admission), "Retry-After": String(admission.retryAfterSeconds) },
        });
      case "allowed": {
        keepLease(leaseId, admission, Date.now());
        // Tokens leased to this isolate are still the caller's to spend: count them as remaining,
        // as the leased requests that follow do, so the header only ever counts down.
        const held = admission.lease ? (leases.get(leaseId)?.tokens ?? 0) : 0;
        await next();
        for (const [name, value] of Object.entries(headersOf({ ...admission, remaining: admission.remaining + held }))) c.res.headers.set(name, value);
      }
    }
  };
}
