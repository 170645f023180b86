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
import { modelInPath } from "../serving/names";
import type { Admission, Limits } from "./limiter";
import { LeaseBook } from "./lease";

function headersOf(l: Limits): Record<string, string> {
  return { "RateLimit-Limit": String(l.limit), "RateLimit-Remaining": String(l.remaining), "RateLimit-Reset": String(l.resetSeconds) };
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

/** Isolate-wide: leased tokens by tenant, key and model. */
const leases = new LeaseBook();

/** Admits the request against the caller's tenant (set by apiKeyAuth), or refuses it. */
export function rateLimit(): MiddlewareHandler<AppEnv> {
  return async function rateLimitHandler(c, next) {
    const caller = c.get("caller");
    if (!caller) throw new ServingError("internal", "rate limit without an authenticated caller");
    const model = modelInPath(c.req.path);
    const leaseId = `${caller.tenant}\u0000${caller.keyId}\u0000${model ?? ""}`;
    const leased = leases.spend(leaseId, Date.now());
    if (leased) {
      await next();
      for (const [name, value] of Object.entries(headersOf(leased))) c.res.headers.set(name, value);
      return;
    }
    const { unused, want } = leases.end(leaseId, Date.now());
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
        // Tokens leased to this isolate are still the caller's to spend: count them as remaining,
        // as the leased requests that follow do, so the header only ever counts down.
        const held = leases.keep(leaseId, admission, Date.now());
        await next();
        for (const [name, value] of Object.entries(headersOf({ ...admission, remaining: admission.remaining + held }))) c.res.headers.set(name, value);
      }
    }
  };
}
