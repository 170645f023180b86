/**
 * @module ratelimit/middleware: has the caller's tenant object admit each keyed request (or, for a
 * tenant with leased admission, spends a token the object leased to this isolate), one call at a
 * time per key and model for all the requests waiting (admission-queue), gives a lease's unspent
 * tokens back when it ends, and puts RateLimit-Limit / -Remaining / -Reset on every response to one.
 */
import type { MiddlewareHandler } from "hono";
import { unauthenticated } from "../auth/middleware";
import { timed } from "../monitoring/timings";
import type { AppEnv } from "../env";
import { ServingError } from "../errors";
import { settings } from "../settings";
import { modelInPath } from "../serving/names";
import { deferrer } from "../defer";
import type { Admission, Limits } from "./limiter";
import type { LeaseBook } from "./lease";
import { AskTimedOut, type Ask, type Decision } from "./admission-queue";

function headersOf(l: Limits): Record<string, string> {
  return { "RateLimit-Limit": String(l.limit), "RateLimit-Remaining": String(l.remaining), "RateLimit-Reset": String(l.resetSeconds) };
}

/** `answer`, or an AskTimedOut (holding the answer, should it still come) after `ms`. */
async function withTimeout(answer: Promise<Admission>, ms: number): Promise<Admission> {
  let timer: number | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new AskTimedOut(answer)), ms);
  });
  try {
    return await Promise.race([answer, timeout]);
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

/** A moment past a lease's end, so the isolate's clock has reached it when the timer fires. */
const SETTLE_MARGIN_MS = 50;

/** Admits the request against the caller's tenant (set by apiKeyAuth), or refuses it. */
export function rateLimit(): MiddlewareHandler<AppEnv> {
  return async function rateLimitHandler(c, next) {
    const caller = c.get("caller");
    if (!caller) throw new ServingError("internal", "rate limit without an authenticated caller");
    const { leases, queue } = c.var.core.admission;
    const model = modelInPath(c.req.path);
    const leaseId = `${caller.tenant}\u0000${caller.keyId}\u0000${model ?? ""}`;
    const tenant = () => c.env.TENANTS.get(c.env.TENANTS.idFromName(caller.tenant));
    let decision: Decision;
    // A leased token needs no wait, and nothing of the tenant's object: the common case, kept cheap.
    const leased = leases.spend(leaseId, Date.now());
    if (leased) decision = { outcome: "admitted", limits: leased };
    else {
      const stub = tenant();
      const timeoutMs = settings(c.env).RATE_LIMIT_TIMEOUT_MS;
      const ask: Ask = (unused, want, need) => {
        const answer = withTimeout(stub.admit(caller.keyId, model, unused, want, need) as unknown as Promise<Admission>, timeoutMs);
        // Other requests wait on this answer: it must arrive even if this request's client goes away.
        deferrer(c)(answer.catch(() => undefined));
        return answer;
      };
      try {
        // The wait on the tenant's object, for this request's ask or another's (given up after
        // twice an ask's timeout: its asker is gone).
        decision = await timed(c.get("timings"), "ratelimit", queue.admit(leaseId, ask, 2 * timeoutMs));
      } catch (e) {
        if (settings(c.env).RATE_LIMIT_FAILURE_MODE === "open") {
          console.warn(JSON.stringify({ level: "warn", event: "rate_limiter_unreachable", tenant: caller.tenant, failure_mode: "open", timeout: e instanceof AskTimedOut }));
          return next();
        }
        throw new ServingError("unavailable", "the rate limiter is unreachable; retry shortly", { cause: e, headers: { "Retry-After": "1" } });
      }
    }
    if (decision.outcome === "admitted") {
      const { leaseEndsAt } = decision;
      // Unspent tokens go back when the lease ends, so the tenant's usage counts requests served.
      if (leaseEndsAt !== undefined) deferrer(c)(settleAt(leases, leaseEndsAt, leaseId, tenant() as unknown as Settler));
      await next();
      for (const [name, value] of Object.entries(headersOf(decision.limits))) c.res.headers.set(name, value);
      return;
    }
    const admission = decision.admission;
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
    }
  };
}

interface Settler {
  giveBack(unused: number): Promise<void>;
}

/** At a lease's end, gives its unspent tokens back to the tenant's object (unless a new ask already did). */
async function settleAt(leases: LeaseBook, endsAt: number, leaseId: string, stub: Settler): Promise<void> {
  await new Promise((r) => setTimeout(r, Math.max(0, endsAt - Date.now()) + SETTLE_MARGIN_MS));
  const unused = leases.settle(leaseId, Date.now());
  if (unused > 0) await stub.giveBack(unused).catch(() => undefined);
}
